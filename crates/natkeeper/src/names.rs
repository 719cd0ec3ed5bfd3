//! The names and marks natkeeper owns in the kernel.

/// natkeeper's own table (`table ip natkeeper`).
pub const TABLE: &str = "natkeeper";
/// DNAT for traffic arriving from outside (nat, prerouting, priority -110: before iptables' -100).
pub const CHAIN_DSTNAT: &str = "dstnat";
/// DNAT for connections the host itself opens to its public addresses (nat, output, -110).
pub const CHAIN_OUTPUT: &str = "output";
/// 1:1 SNAT, hairpin masquerade and egress (nat, postrouting, priority 90: before libvirt's 100).
pub const CHAIN_SRCNAT: &str = "srcnat";
/// Host protection (filter, input, priority 0), only when `[host]` is configured.
pub const CHAIN_INPUT: &str = "input";
/// Map `public address . protocol . port : guest address . port`.
pub const MAP_FORWARDS: &str = "forwards";
/// Map `public address : guest address` (1:1 NAT, inbound).
pub const MAP_NAT_IN: &str = "nat_in";
/// Map `guest address : public address` (1:1 NAT, outbound).
pub const MAP_NAT_OUT: &str = "nat_out";

/// The conntrack mark natkeeper puts on the connections it DNATs (`ct mark & MARK_MASK == MARK`);
/// the holes in other tables accept exactly these. Only the upper 16 bits are used, so other users
/// of the low bits keep theirs.
pub const MARK: u32 = 0x4e4b_0000;
/// The bits of the conntrack mark natkeeper owns.
pub const MARK_MASK: u32 = 0xffff_0000;

/// Every rule natkeeper places in a chain it does not own carries a comment starting with this.
pub const HOLE_TAG: &str = "natkeeper";

/// Priority of the nat chains that DNAT (iptables-nft's nat PREROUTING/OUTPUT are at -100).
pub const PRIO_DSTNAT: i32 = -110;
/// Priority of the nat chain that SNATs (libvirt's masquerade is at 100).
pub const PRIO_SRCNAT: i32 = 90;
/// Priority of the host-protection chain.
pub const PRIO_INPUT: i32 = 0;
