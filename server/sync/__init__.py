"""The generic sync engine: change log, pull, push, merge and scopes. It knows no SFA entity;
the domain registers its entities with a ``SyncRegistry``."""
