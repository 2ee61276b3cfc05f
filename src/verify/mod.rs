//! Independent verification of a signed zone: being written.
