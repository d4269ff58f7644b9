"""The risk engine's pure half: business assessment, decision policy and the decision itself. No AWS, no numpy."""
