"""The services on the sandbox's one endpoint beside the tier engine: bedrock-runtime (:mod:`.runtime`),
the bedrock control plane and its batch jobs (:mod:`.control`, :mod:`.batch`), Service Quotas
(:mod:`.servicequotas`), S3/STS/CloudWatch through moto (:mod:`.moto_bridge`) and the metrics
publisher (:mod:`.metrics`). Each depends on the :class:`~..host.SandboxHost` it is given."""
