"""The workflow's steps: each takes the facts it needs and the adapters it uses; handlers only wire them up."""
