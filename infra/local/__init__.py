"""The local stack: template.yaml deployed into moto, functions run in-process, an HTTP front, sandbox vendors."""
