"""The TAXII 2.1 server of a node (OASIS TAXII 2.1, taxii-stix.md §1): discovery, API roots,
collections, objects, manifests, versions and status, each computed over the caller's view."""
