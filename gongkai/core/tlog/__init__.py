"""Transparency logs (RFC 6962 Merkle trees served as C2SP tlog-tiles, with signed
checkpoints): :mod:`merkle` (the tree, pure), :mod:`notes` (signed notes, checkpoints and
cosignatures, pure), :mod:`store` (a log kept in the database), :mod:`signing` (the
checkpoint key, outside the database). The publication ledger and the audit log are two
such logs."""
