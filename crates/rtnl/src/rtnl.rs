//! The request handle: dumps of links, addresses and routes, and the queries built on them.

use netlink_packet_core::{NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::address::AddressMessage;
use netlink_packet_route::link::{LinkAttribute, LinkExtentMask, LinkMessage};
use netlink_packet_route::route::RouteMessage;
use netlink_sys::Socket;

use crate::address::Address;
use crate::decode::{self, Body};
use crate::error::Error;
use crate::event::Event;
use crate::family::Family;
use crate::link::Link;
use crate::route::Route;
use crate::snapshot::{Snapshot, Subnets};
use crate::sock;

/// How often a dump is retried when the kernel flags it `NLM_F_DUMP_INTR` (changed while dumping).
const DUMP_ATTEMPTS: u32 = 5;

/// A blocking rtnetlink handle in the network namespace of the thread that opened it.
///
/// Every method sends one or more dump requests and reads the answers to the end; nothing is cached.
#[derive(Debug)]
pub struct Rtnl {
    socket: Socket,
    seq: u32,
}

impl Rtnl {
    /// Opens a `NETLINK_ROUTE` socket in the calling thread's network namespace.
    pub fn open() -> Result<Rtnl, Error> {
        Ok(Rtnl { socket: sock::open(&[])?, seq: 0 })
    }

    /// Every interface (`RTM_GETLINK` dump, statistics skipped).
    pub fn links(&mut self) -> Result<Vec<Link>, Error> {
        let mut request = LinkMessage::default();
        request.attributes.push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
        self.dump("RTM_GETLINK dump", RouteNetlinkMessage::GetLink(request), |e| match e {
            Event::NewLink(l) => Some(l),
            _ => None,
        })
    }

    /// Every IPv4 and IPv6 address (`RTM_GETADDR` dump).
    pub fn addresses(&mut self) -> Result<Vec<Address>, Error> {
        self.dump("RTM_GETADDR dump", RouteNetlinkMessage::GetAddress(AddressMessage::default()), |e| match e
        {
            Event::NewAddress(a) => Some(a),
            _ => None,
        })
    }

    /// Every route of `family`, all tables (`RTM_GETROUTE` dump).
    pub fn routes(&mut self, family: Family) -> Result<Vec<Route>, Error> {
        let mut request = RouteMessage::default();
        request.header.address_family = family.af().into();
        self.dump("RTM_GETROUTE dump", RouteNetlinkMessage::GetRoute(request), |e| match e {
            Event::NewRoute(r) => Some(r),
            _ => None,
        })
    }

    /// Links, addresses, and IPv4 and IPv6 routes, dumped one after the other.
    pub fn snapshot(&mut self) -> Result<Snapshot, Error> {
        let links = self.links()?;
        let addresses = self.addresses()?;
        let mut routes = self.routes(Family::Ipv4)?;
        routes.extend(self.routes(Family::Ipv6)?);
        Ok(Snapshot { links, addresses, routes })
    }

    /// The interface named `name` ([`Snapshot::link`]).
    pub fn link(&mut self, name: &str) -> Result<Link, Error> {
        self.links_only()?.link(name).cloned()
    }

    /// The ports of bridge `bridge` ([`Snapshot::ports`]).
    pub fn bridge_ports(&mut self, bridge: &str) -> Result<Vec<Link>, Error> {
        Ok(self.links_only()?.ports(bridge)?.into_iter().cloned().collect())
    }

    /// The IPv4 and IPv6 subnets of bridge `bridge` ([`Snapshot::bridge_subnets`]).
    pub fn bridge_subnets(&mut self, bridge: &str) -> Result<Subnets, Error> {
        let snapshot = Snapshot { links: self.links()?, addresses: self.addresses()?, routes: Vec::new() };
        snapshot.bridge_subnets(bridge)
    }

    /// The IPv4 address labelled `label` ([`Snapshot::resolve_label`]).
    pub fn resolve_label(&mut self, label: &str) -> Result<Address, Error> {
        let snapshot = Snapshot { addresses: self.addresses()?, ..Snapshot::default() };
        snapshot.resolve_label(label).cloned()
    }

    /// The main table's default route of `family` ([`Snapshot::default_route`]).
    pub fn default_route(&mut self, family: Family) -> Result<Option<Route>, Error> {
        let snapshot = Snapshot { routes: self.routes(family)?, ..Snapshot::default() };
        Ok(snapshot.default_route(family).cloned())
    }

    fn links_only(&mut self) -> Result<Snapshot, Error> {
        Ok(Snapshot { links: self.links()?, ..Snapshot::default() })
    }

    /// Sends `request` as a dump and collects what `pick` keeps of the answers, retrying when the dump
    /// was interrupted by a concurrent change.
    fn dump<T>(
        &mut self,
        name: &'static str,
        request: RouteNetlinkMessage,
        pick: impl Fn(Event) -> Option<T>,
    ) -> Result<Vec<T>, Error> {
        for _ in 0..DUMP_ATTEMPTS {
            self.seq = self.seq.wrapping_add(1);
            let seq = self.seq;
            sock::send(&self.socket, request.clone(), NLM_F_REQUEST | NLM_F_DUMP, seq)?;
            let mut items = Vec::new();
            let mut interrupted = false;
            'dump: loop {
                let Some(datagram) = sock::recv(&self.socket, false).map_err(|e| Error::io("recv", e))?
                else {
                    continue;
                };
                // Answers to an earlier request that failed half-way carry an older sequence number.
                for frame in decode::frames(&datagram)?.into_iter().filter(|f| f.seq == seq) {
                    interrupted |= frame.flags & NLM_F_DUMP_INTR != 0;
                    match frame.body {
                        Body::Event(e) => items.extend(pick(e)),
                        Body::Done(0) | Body::Error(0) => break 'dump,
                        Body::Done(code) | Body::Error(code) => {
                            return Err(Error::Kernel { request: name, errno: code.saturating_abs() });
                        }
                    }
                }
            }
            if !interrupted {
                return Ok(items);
            }
        }
        Err(Error::DumpInterrupted { request: name, attempts: DUMP_ATTEMPTS })
    }
}
