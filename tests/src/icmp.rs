//! ICMP from inside a namespace, on a raw socket (no `ping` binary needed): echo requests of a
//! chosen size, and other ICMP types, counting the answers.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::sys::socket::{
    AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType, SockaddrIn, recvfrom, sendto, socket,
};

use crate::netns::Netns;

/// ICMP echo request.
pub const ECHO_REQUEST: u8 = 8;
/// ICMP echo reply.
pub const ECHO_REPLY: u8 = 0;
/// ICMP timestamp request (Linux answers it with a timestamp reply, type 14).
pub const TIMESTAMP_REQUEST: u8 = 13;

fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 =
        data.chunks(2).map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))).sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn raw_socket() -> OwnedFd {
    socket(
        AddressFamily::Inet,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
        SockProtocol::Icmp,
    )
    .expect("raw ICMP socket")
}

/// A burst of ICMP messages and the answers to count.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    /// ICMP type sent.
    pub kind: u8,
    /// ICMP type of the answers counted.
    pub answer: u8,
    /// Payload bytes after the 8-byte ICMP header.
    pub payload: usize,
    /// How many are sent.
    pub count: u16,
    /// Pause between two.
    pub gap: Duration,
    /// How long to wait for answers after the last one.
    pub wait: Duration,
}

/// Sends `p.count` ICMP messages from `ns` to `dst` and counts the answers.
pub fn send_and_count(ns: &Netns, dst: Ipv4Addr, p: Probe) -> usize {
    let Probe { kind, answer, payload, count, gap, wait } = p;
    ns.run(move || {
        let fd = raw_socket();
        let to = SockaddrIn::from(SocketAddrV4::new(dst, 0));
        let id: u16 = (std::process::id() & 0xffff) as u16;
        let mut answers = 0;
        let mut buf = [0u8; 2048];
        let mut drain = |answers: &mut usize| {
            while let Ok((n, _)) = recvfrom::<SockaddrIn>(fd.as_raw_fd(), &mut buf) {
                // IP header (20 bytes, no options from Linux), then ICMP.
                if n >= 28 && buf[20] == answer && u16::from_be_bytes([buf[24], buf[25]]) == id {
                    *answers += 1;
                }
            }
        };
        for seq in 0..count {
            let mut msg = vec![kind, 0, 0, 0];
            msg.extend_from_slice(&id.to_be_bytes());
            msg.extend_from_slice(&seq.to_be_bytes());
            msg.resize(8 + payload, 0x5a);
            let c = checksum(&msg);
            msg[2..4].copy_from_slice(&c.to_be_bytes());
            sendto(fd.as_raw_fd(), &msg, &to, MsgFlags::empty()).expect("send ICMP");
            std::thread::sleep(gap);
            drain(&mut answers);
        }
        let end = Instant::now() + wait;
        while Instant::now() < end {
            std::thread::sleep(Duration::from_millis(10));
            drain(&mut answers);
        }
        answers
    })
}
