//! The test harness itself: namespaces are isolated, the lab is wired as drawn, the echo check works.

use std::net::SocketAddrV4;
use std::time::Duration;

use natkeeper_tests::http::{EchoServer, get};
use natkeeper_tests::lab::{self, Lab};

#[test]
fn lab_carries_traffic_between_its_namespaces() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let lab = Lab::article();
    let _srv = EchoServer::start(&lab.host, &[8000]);
    let echo = get(&lab.outside, None, SocketAddrV4::new(lab::EXTRA_0, 8000), Duration::from_secs(2))
        .expect("outside reaches the host's eth0:0 address");
    assert_eq!(echo.server.ip(), std::net::IpAddr::V4(lab::EXTRA_0));
    assert_eq!(echo.peer.ip(), std::net::IpAddr::V4(lab::CLIENT));

    // A guest reaches the host over the bridge.
    let g = lab.guest(41);
    let echo = get(&g.ns, None, SocketAddrV4::new(lab::BRIDGE_ADDR, 8000), Duration::from_secs(2))
        .expect("guest reaches the host");
    assert_eq!(echo.peer.ip(), std::net::IpAddr::V4(g.addr));

    // Without NAT the outside has no route back to the guests: the guest's connection fails.
    let _out = EchoServer::start(&lab.outside, &[80]);
    let r = get(&g.ns, None, SocketAddrV4::new(lab::CLIENT, 80), Duration::from_millis(500));
    assert!(r.is_err(), "no NAT yet, yet the guest got through: {r:?}");
}
