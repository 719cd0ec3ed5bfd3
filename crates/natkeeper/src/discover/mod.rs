//! Discovery: the host's bridges, uplink and addresses, and its firewall landscape (in progress).
