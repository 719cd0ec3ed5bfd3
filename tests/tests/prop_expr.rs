//! Encode → decode is the identity for every expression natkeeper-nft models (and for expressions it
//! keeps verbatim): generated expressions are put in a rule, encoded as the NEWRULE message a
//! `Transaction` sends (`Transaction::wire`), decoded with `parse_notifications` — the path dumps
//! and events take — and compared with what was encoded.
//!
//! Generators cover each type's whole value space, except values with two encodings: an `Other(n)`
//! whose `n` has a name decodes to the name (so `Other` is generated only for unnamed numbers), and
//! strings never hold NUL (netlink strings end at the first one).

use natkeeper_nft::expr::{
    Bitwise, BitwiseOp, Cmp, CmpOp, Counter, Ct, CtKey, Fib, Immediate, Limit, Log, Lookup, Masq, Meta,
    MetaKey, Nat, NatType, Payload, PayloadBase, PayloadOp, Range, Redir, Register, Reject, UnknownExpr, Xt,
};
use natkeeper_nft::{
    Compat, Data, Event, Expr, Family, Position, Rule, Transaction, Verdict, parse_notifications,
};
use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..24)
}

/// Names as the kernel takes them: no NUL, up to a chain name's length.
fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_.:-]{1,32}"
}

fn reg() -> impl Strategy<Value = Register> {
    prop_oneof![0u32..24, any::<u32>()].prop_map(Register)
}

fn cmp_op() -> impl Strategy<Value = CmpOp> {
    any::<u32>().prop_map(CmpOp::from)
}

fn family() -> impl Strategy<Value = Family> {
    any::<u8>().prop_map(Family::from)
}

fn verdict() -> impl Strategy<Value = Verdict> {
    prop_oneof![
        Just(Verdict::Accept),
        Just(Verdict::Drop),
        Just(Verdict::Queue),
        Just(Verdict::Continue),
        Just(Verdict::Break),
        Just(Verdict::Return),
        name().prop_map(Verdict::Jump),
        name().prop_map(Verdict::Goto),
        any::<i32>()
            .prop_filter("codes with a name decode to the name", |c| !(-5..=1).contains(c) && *c != 3)
            .prop_map(Verdict::Other),
    ]
}

fn data() -> impl Strategy<Value = Data> {
    prop_oneof![bytes().prop_map(Data::Value), verdict().prop_map(Data::Verdict)]
}

fn expr() -> impl Strategy<Value = Expr> {
    prop_oneof![
        (any::<u32>().prop_map(PayloadBase::from), any::<u32>(), any::<u32>(), reg())
            .prop_map(|(b, o, l, r)| Expr::Payload(Payload::load(b, o, l, r))),
        (any::<u32>().prop_map(PayloadBase::from), any::<u32>(), any::<u32>(), reg(), any::<[u32; 3]>())
            .prop_map(|(base, offset, len, sreg, [csum_type, csum_offset, csum_flags])| Expr::Payload(
                Payload {
                    base,
                    offset,
                    len,
                    op: PayloadOp::Store { sreg, csum_type, csum_offset, csum_flags },
                }
            )),
        (reg(), cmp_op(), bytes()).prop_map(|(sreg, op, data)| Expr::Cmp(Cmp { sreg, op, data })),
        (reg(), reg(), any::<u32>(), bytes(), bytes()).prop_map(
            |(sreg, dreg, len, mask, xor)| Expr::Bitwise(Bitwise {
                sreg,
                dreg,
                len,
                op: BitwiseOp::Bool { mask, xor }
            })
        ),
        (reg(), reg(), any::<u32>(), 1u32.., bytes()).prop_map(|(sreg, dreg, len, op, data)| Expr::Bitwise(
            Bitwise { sreg, dreg, len, op: BitwiseOp::Shift { op, data } }
        )),
        (any::<u32>().prop_map(MetaKey::from), reg(), any::<bool>()).prop_map(|(key, r, store)| Expr::Meta(
            if store { Meta::Store { key, sreg: r } } else { Meta::Load { key, dreg: r } }
        )),
        (reg(), data()).prop_map(|(dreg, data)| Expr::Immediate(Immediate { dreg, data })),
        (any::<u64>(), any::<u64>()).prop_map(|(bytes, packets)| Expr::Counter(Counter { bytes, packets })),
        (any::<u32>().prop_map(CtKey::from), reg(), of(any::<u8>()), any::<bool>()).prop_map(
            |(key, r, direction, store)| {
                Expr::Ct(if store {
                    Ct::Store { key, sreg: r, direction }
                } else {
                    Ct::Load { key, dreg: r, direction }
                })
            }
        ),
        (
            prop_oneof![Just(NatType::Snat), Just(NatType::Dnat), (2u32..).prop_map(NatType::Other)],
            family(),
            [of(reg()), of(reg()), of(reg()), of(reg())],
            of(any::<u32>())
        )
            .prop_map(|(nat_type, family, [addr_min, addr_max, proto_min, proto_max], flags)| {
                Expr::Nat(Nat { nat_type, family, addr_min, addr_max, proto_min, proto_max, flags })
            }),
        (of(any::<u32>()), of(reg()), of(reg())).prop_map(|(flags, proto_min, proto_max)| Expr::Masq(Masq {
            flags,
            proto_min,
            proto_max
        })),
        (of(reg()), of(reg()), of(any::<u32>()))
            .prop_map(|(proto_min, proto_max, flags)| Expr::Redir(Redir { proto_min, proto_max, flags })),
        (name(), reg(), of(reg()), of(any::<u32>()), of(any::<u32>())).prop_map(
            |(set, sreg, dreg, set_id, flags)| Expr::Lookup(Lookup { set, sreg, dreg, set_id, flags })
        ),
        (reg(), cmp_op(), bytes(), bytes()).prop_map(|(sreg, op, from, to)| Expr::Range(Range {
            sreg,
            op,
            from,
            to
        })),
        (any::<u64>(), any::<u64>(), any::<u32>(), any::<u32>(), any::<u32>()).prop_map(
            |(rate, unit, burst, kind, flags)| Expr::Limit(Limit { rate, unit, burst, kind, flags })
        ),
        (
            of("[ -~]{0,40}"),
            of(any::<u16>()),
            of(any::<u32>()),
            of(any::<u16>()),
            of(any::<u32>()),
            of(any::<u32>())
        )
            .prop_map(|(prefix, group, snaplen, qthreshold, level, flags)| Expr::Log(Log {
                prefix,
                group,
                snaplen,
                qthreshold,
                level,
                flags
            })),
        (any::<u32>(), of(any::<u8>()))
            .prop_map(|(kind, icmp_code)| Expr::Reject(Reject { kind, icmp_code })),
        (reg(), any::<u32>(), any::<u32>()).prop_map(|(dreg, result, flags)| Expr::Fib(Fib {
            dreg,
            result,
            flags
        })),
        (name(), any::<u32>(), vec(any::<u8>(), 0..64))
            .prop_map(|(n, rev, info)| Expr::Match(Xt::new(n, rev, info))),
        (name(), any::<u32>(), vec(any::<u8>(), 0..64))
            .prop_map(|(n, rev, info)| Expr::Target(Xt::new(n, rev, info))),
        // Expressions the crate does not model are kept verbatim, with or without data.
        (
            prop_oneof![Just("quota"), Just("objref"), Just("tproxy"), Just("synproxy"), Just("exthdr")],
            of(vec(any::<u8>(), 0..40))
        )
            .prop_map(|(n, data)| Expr::Unknown(UnknownExpr { name: n.to_string(), data })),
    ]
}

fn rule() -> impl Strategy<Value = Rule> {
    (
        family(),
        name(),
        name(),
        vec(expr(), 0..8),
        of((any::<u32>(), any::<u32>()).prop_map(|(proto, flags)| Compat { proto, flags })),
        of(vec(any::<u8>(), 0..32)),
    )
        .prop_map(|(family, table, chain, exprs, compat, userdata)| {
            let mut r = Rule::new(family, table, chain);
            r.exprs = exprs;
            r.compat = compat;
            r.userdata = userdata;
            r
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn every_expression_decodes_to_what_was_encoded(rule in rule()) {
        let mut txn = Transaction::new(None);
        txn.add_rule(&rule, Position::Append);
        let decoded = parse_notifications(txn.wire()).expect("an encoded rule decodes");
        prop_assert_eq!(decoded.len(), 1);
        prop_assert_eq!(&decoded[0].event, &Event::NewRule(rule));
    }
}

/// The generator reaches every expression type (a generator that lost a branch would test less than
/// it says).
#[test]
fn the_generator_covers_every_expression_type() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = expr();
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..5000 {
        let e = strategy.new_tree(&mut runner).unwrap().current();
        let kind = match &e {
            Expr::Unknown(_) => "unknown".to_string(),
            Expr::Match(_) => "match".to_string(),
            Expr::Target(_) => "target".to_string(),
            other => other.name().to_string(),
        };
        seen.insert(kind);
    }
    let all = [
        "payload",
        "cmp",
        "bitwise",
        "meta",
        "immediate",
        "counter",
        "ct",
        "nat",
        "masq",
        "redir",
        "lookup",
        "range",
        "limit",
        "log",
        "reject",
        "fib",
        "match",
        "target",
        "unknown",
    ];
    for k in all {
        assert!(seen.contains(k), "{k} is never generated");
    }
}
