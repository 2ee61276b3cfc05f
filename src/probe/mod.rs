//! The SLA probe (Spec 10): being written.
