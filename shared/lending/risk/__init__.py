"""The risk engine's pure half: business review, decision policy and the decision itself. No AWS, no numpy."""
