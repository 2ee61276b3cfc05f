//! Batched UDP I/O: `recvmmsg(2)` and `sendmmsg(2)` into preallocated
//! buffers, so a busy worker spends two system calls per batch of queries
//! rather than two per query.
//!
//! Unsafe code lives here (and in the one call of [`super::trim`]): the
//! kernel's `mmsghdr` arrays hold raw pointers into buffers that this struct
//! owns, allocates once and never moves or resizes.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, RawFd};

/// Queries taken per system call.
pub(super) const BATCH: usize = 32;

/// Receive and send buffers for one worker.
pub(super) struct Batch {
    rx: Vec<u8>,
    tx: Vec<u8>,
    rx_size: usize,
    tx_size: usize,
    addrs: Vec<libc::sockaddr_storage>,
    rx_iov: Vec<libc::iovec>,
    tx_iov: Vec<libc::iovec>,
    rx_hdr: Vec<libc::mmsghdr>,
    tx_hdr: Vec<libc::mmsghdr>,
    /// Response length per slot (0: nothing to send).
    tx_len: [usize; BATCH],
    received: usize,
}

// The raw pointers only point into the Vecs this struct owns.
unsafe impl Send for Batch {}

impl Batch {
    /// Buffers for queries up to `rx_size` octets and responses up to `tx_size`.
    pub(super) fn new(rx_size: usize, tx_size: usize) -> Box<Batch> {
        // SAFETY: all-zero is a valid value for these plain C structs.
        let zero_addr: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        let zero_hdr: libc::mmsghdr = unsafe { std::mem::zeroed() };
        let empty = libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        };
        let mut b = Box::new(Batch {
            rx: vec![0u8; rx_size * BATCH],
            tx: vec![0u8; tx_size * BATCH],
            rx_size,
            tx_size,
            addrs: vec![zero_addr; BATCH],
            rx_iov: vec![empty; BATCH],
            tx_iov: vec![empty; BATCH],
            rx_hdr: vec![zero_hdr; BATCH],
            tx_hdr: vec![zero_hdr; BATCH],
            tx_len: [0; BATCH],
            received: 0,
        });
        let b2 = &mut *b;
        for i in 0..BATCH {
            b2.rx_iov[i] = libc::iovec {
                iov_base: b2.rx[i * rx_size..].as_mut_ptr().cast(),
                iov_len: rx_size,
            };
            b2.rx_hdr[i].msg_hdr.msg_iov = &mut b2.rx_iov[i];
            b2.rx_hdr[i].msg_hdr.msg_iovlen = 1;
            b2.rx_hdr[i].msg_hdr.msg_name =
                (&mut b2.addrs[i] as *mut libc::sockaddr_storage).cast();
            b2.tx_iov[i] = libc::iovec {
                iov_base: b2.tx[i * tx_size..].as_mut_ptr().cast(),
                iov_len: 0,
            };
            b2.tx_hdr[i].msg_hdr.msg_iov = &mut b2.tx_iov[i];
            b2.tx_hdr[i].msg_hdr.msg_iovlen = 1;
            b2.tx_hdr[i].msg_hdr.msg_name =
                (&mut b2.addrs[i] as *mut libc::sockaddr_storage).cast();
        }
        b
    }

    /// Wait for at least one datagram (up to the socket's receive timeout),
    /// then take whatever else is queued, up to [`BATCH`].
    pub(super) fn recv(&mut self, sock: &impl AsRawFd) -> io::Result<usize> {
        let fd: RawFd = sock.as_raw_fd();
        for h in self.rx_hdr.iter_mut() {
            h.msg_hdr.msg_namelen =
                std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            h.msg_hdr.msg_flags = 0;
            h.msg_len = 0;
        }
        // SAFETY: rx_hdr holds BATCH headers whose pointers refer to buffers
        // owned by self, valid for the sizes given.
        let n = unsafe {
            libc::recvmmsg(
                fd,
                self.rx_hdr.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_WAITFORONE,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            self.received = 0;
            return Err(io::Error::last_os_error());
        }
        self.received = n as usize;
        self.tx_len = [0; BATCH];
        Ok(self.received)
    }

    /// Query `i` of the last batch. Truncated datagrams (larger than the
    /// receive buffer) come back empty.
    pub(super) fn query(&self, i: usize) -> &[u8] {
        &self.rx[i * self.rx_size..i * self.rx_size + self.query_len(i)]
    }

    /// Query `i` of the last batch (as [`Batch::query`]) and its response
    /// buffer.
    pub(super) fn slot(&mut self, i: usize) -> (&[u8], &mut [u8]) {
        let len = self.query_len(i);
        let q = &self.rx[i * self.rx_size..i * self.rx_size + len];
        let out = &mut self.tx[i * self.tx_size..(i + 1) * self.tx_size];
        (q, out)
    }

    fn query_len(&self, i: usize) -> usize {
        let h = &self.rx_hdr[i];
        if h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
            0
        } else {
            h.msg_len as usize
        }
    }

    /// Source address of query `i`.
    pub(super) fn peer(&self, i: usize) -> Option<std::net::SocketAddr> {
        use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6};
        let a = &self.addrs[i];
        match a.ss_family as i32 {
            libc::AF_INET => {
                // SAFETY: the kernel wrote a sockaddr_in here (family says so).
                let s: &libc::sockaddr_in =
                    unsafe { &*(a as *const _ as *const libc::sockaddr_in) };
                Some(SocketAddr::V4(SocketAddrV4::new(
                    u32::from_be(s.sin_addr.s_addr).into(),
                    u16::from_be(s.sin_port),
                )))
            }
            libc::AF_INET6 => {
                // SAFETY: as above, a sockaddr_in6.
                let s: &libc::sockaddr_in6 =
                    unsafe { &*(a as *const _ as *const libc::sockaddr_in6) };
                Some(SocketAddr::V6(SocketAddrV6::new(
                    s.sin6_addr.s6_addr.into(),
                    u16::from_be(s.sin6_port),
                    s.sin6_flowinfo,
                    s.sin6_scope_id,
                )))
            }
            _ => None,
        }
    }

    /// Mark response `i` as `len` octets to send back to its query's source.
    pub(super) fn respond(&mut self, i: usize, len: usize) {
        self.tx_len[i] = len.min(self.tx_size);
    }

    /// Send every marked response. Returns how many were sent.
    pub(super) fn send(&mut self, sock: &impl AsRawFd) -> io::Result<usize> {
        let fd = sock.as_raw_fd();
        // Pack the slots with something to send to the front.
        let mut m = 0;
        for i in 0..self.received {
            if self.tx_len[i] == 0 {
                continue;
            }
            self.tx_iov[m] = libc::iovec {
                iov_base: self.tx[i * self.tx_size..].as_mut_ptr().cast(),
                iov_len: self.tx_len[i],
            };
            self.tx_hdr[m].msg_hdr.msg_iov = &mut self.tx_iov[m];
            self.tx_hdr[m].msg_hdr.msg_name =
                (&mut self.addrs[i] as *mut libc::sockaddr_storage).cast();
            self.tx_hdr[m].msg_hdr.msg_namelen = self.rx_hdr[i].msg_hdr.msg_namelen;
            m += 1;
        }
        let mut sent = 0;
        while sent < m {
            // SAFETY: tx_hdr[sent..m] point into buffers owned by self.
            let r = unsafe {
                libc::sendmmsg(
                    fd,
                    self.tx_hdr[sent..].as_mut_ptr(),
                    (m - sent) as libc::c_uint,
                    0,
                )
            };
            if r < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                // Skip the datagram that failed (e.g. unreachable peer), keep the rest.
                sent += 1;
                if sent >= m {
                    return Err(e);
                }
                continue;
            }
            sent += r as usize;
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;

    #[test]
    fn a_batch_round_trip() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        server
            .set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .unwrap();
        let addr = server.local_addr().unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client
            .set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .unwrap();
        for i in 0..5u8 {
            client.send_to(&[i; 20], addr).unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        let mut b = Batch::new(512, 512);
        let n = b.recv(&server).unwrap();
        assert_eq!(n, 5);
        for i in 0..n {
            assert_eq!(b.peer(i), Some(client.local_addr().unwrap()));
            let (q, out) = b.slot(i);
            let v = q[0];
            assert_eq!(q.len(), 20);
            out[..3].copy_from_slice(&[v, v, v]);
            b.respond(i, 3);
        }
        assert_eq!(b.send(&server).unwrap(), 5);
        let mut got = Vec::new();
        for _ in 0..5 {
            let mut buf = [0u8; 16];
            let (len, _) = client.recv_from(&mut buf).unwrap();
            assert_eq!(len, 3);
            got.push(buf[0]);
        }
        got.sort();
        assert_eq!(got, vec![0, 1, 2, 3, 4]);
    }
}
