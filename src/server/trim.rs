//! Give the memory a replaced zone version freed back to the kernel.
//!
//! A full build allocates the new version beside the old one from several
//! threads (so from several malloc arenas), and glibc keeps most of what is
//! freed afterwards in those arenas: the process would stay at the build's
//! peak. `malloc_trim(3)` returns the free pages of every arena, which is
//! what an operator expects to see in RSS once the old version is gone.
//! The other unsafe code of tldns is in `server::mmsg` and `server::warm`
//! (the list is in the crate docs).
#![allow(unsafe_code)]

/// Return free heap pages to the kernel. Cheap when there is nothing to
/// return; takes the allocator's locks briefly, so call it off the query
/// path ([`crate::pipeline::daemon`] does, after a full build is published).
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only inspects and shrinks the allocator's own
    // free lists; it takes no pointers from us.
    unsafe {
        libc::malloc_trim(0);
    }
}
