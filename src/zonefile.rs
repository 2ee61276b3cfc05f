//! Zone-file reader (RFC 1035 §5): being written.
