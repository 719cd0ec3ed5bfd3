//! iptables rule language (in progress).
