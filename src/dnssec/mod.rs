//! DNSSEC signing: being written.
