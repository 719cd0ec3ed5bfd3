//! The kernel refuses one message in the middle of a batch: nothing of the batch is applied, and the
//! error names the refused object (its action, family, table and name) with the kernel's errno.
//! Three refusals the kernel really makes: a chain name longer than `NFT_CHAIN_MAXNAMELEN`, an
//! element beyond a map's declared size, an element whose key has the wrong length.

use natkeeper_nft::{
    Chain, Data, Errno, Error, Family, HookNum, Policy, Set, SetDesc, SetElem, Socket, Table, Transaction,
    datatype,
};
use natkeeper_tests::Netns;

/// A batch that builds a table with a base chain, a map of ipv4 → ipv4 (at most 10 elements) and
/// `elems` elements, then `bad` in the middle, then more objects after it.
fn batch(elems: usize, bad: impl FnOnce(&mut Transaction)) -> Transaction {
    let mut txn = Transaction::new(None);
    txn.add_table(&Table::new(Family::Ip, "t"));
    txn.add_chain(&Chain::base(Family::Ip, "t", "pre", "nat", HookNum::Prerouting, -110, Policy::Accept));
    let mut map = Set::new(Family::Ip, "t", "m", datatype::IPV4_ADDR, 4).map_to(datatype::IPV4_ADDR, 4);
    map.desc = Some(SetDesc { size: Some(10), concat: Vec::new() });
    txn.add_set(&map);
    let elems: Vec<SetElem> = (0..elems)
        .map(|i| SetElem::mapping([10, 0, 0, i as u8], Data::Value(vec![192, 168, 122, i as u8])))
        .collect();
    txn.add_elems(Family::Ip, "t", "m", &elems);
    bad(&mut txn);
    txn.add_chain(&Chain::regular(Family::Ip, "t", "after"));
    txn.add_table(&Table::new(Family::Ip, "t2"));
    txn
}

/// Commits `txn` in a fresh namespace holding a ruleset of its own; checks nothing changed and
/// returns the error.
fn refused(tag: &str, txn: Transaction) -> Error {
    let ns = Netns::new(tag);
    ns.nft_load("table ip keep {\n chain c {\n tcp dport 22 accept\n }\n}");
    let before = ns.nft_list();
    let err = ns.run(|| Socket::open().unwrap().commit(txn)).expect_err("the kernel must refuse this batch");
    assert_eq!(ns.nft_list(), before, "nothing of a refused batch may be applied ({err})");
    err
}

fn kernel(err: &Error) -> (&natkeeper_nft::ObjectRef, Errno) {
    match err {
        Error::Kernel { object, errno, .. } => (object, *errno),
        other => panic!("expected a kernel refusal naming the object, got {other:?}"),
    }
}

#[test]
fn a_chain_name_too_long_refuses_the_whole_batch_and_is_named() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let long = "c".repeat(300);
    let err = refused("long", batch(3, |t| t.add_chain(&Chain::regular(Family::Ip, "t", long.as_str()))));
    let (object, errno) = kernel(&err);
    assert_eq!(object.action, "add chain");
    assert_eq!((object.family, object.table.as_str()), (Family::Ip, "t"));
    assert_eq!(object.name.as_deref(), Some(long.as_str()));
    // Too long for the attribute policy (ERANGE) or for the name (ENAMETOOLONG), as kernels differ.
    assert!(matches!(errno.0, libc::ERANGE | libc::ENAMETOOLONG | libc::EINVAL), "{err}");
    assert!(err.to_string().contains("add chain ip t ccc"), "{err}");
}

#[test]
fn an_element_beyond_the_maps_size_refuses_the_whole_batch_and_is_named() {
    if !natkeeper_tests::can_run() {
        return;
    }
    // Ten fit; the eleventh does not.
    let err = refused("full", batch(11, |_| {}));
    let (object, errno) = kernel(&err);
    assert_eq!(
        (object.action, object.table.as_str(), object.name.as_deref()),
        ("add element", "t", Some("m"))
    );
    assert_eq!(errno, Errno(libc::ENFILE), "{err}");
    // The same batch with ten elements goes through: the refusal was the size, nothing else.
    let ns = Netns::new("fits");
    ns.run(|| Socket::open().unwrap().commit(batch(10, |_| {}))).unwrap();
    assert_eq!(ns.exec_ok("nft", &["list", "map", "ip", "t", "m"]).matches(" : 192.168.122.").count(), 10);
}

#[test]
fn an_element_with_a_key_of_the_wrong_length_refuses_the_whole_batch_and_is_named() {
    if !natkeeper_tests::can_run() {
        return;
    }
    let err = refused(
        "keylen",
        batch(3, |t| {
            let bad = SetElem::mapping([10, 0, 9], Data::Value(vec![192, 168, 122, 9]));
            t.add_elems(Family::Ip, "t", "m", &[bad]);
        }),
    );
    let (object, errno) = kernel(&err);
    assert_eq!(
        (object.action, object.table.as_str(), object.name.as_deref()),
        ("add element", "t", Some("m"))
    );
    assert_eq!(errno, Errno::EINVAL, "{err}");
}
