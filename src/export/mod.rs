//! CZDS zone-file export (Spec 4 §2.1): being written.
