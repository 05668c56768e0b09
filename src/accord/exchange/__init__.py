"""STIX 2.1 content at a node: release markings on objects, structural checks, the object store,
and which objects each principal may see."""
