//! rtnetlink discovery (in progress).
