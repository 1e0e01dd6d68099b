"""The control and object types, one module per tag: everything the server knows about each, registered at start."""
