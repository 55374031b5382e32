//! Normalisers are idempotent on whatever they accept, and never panic; spellings of one
//! identifier fold to one value (Unicode included); placeholders and invisible-only values are
//! refused, so they never link strangers.

use proptest::prelude::*;
use sellerlink::IndexBuilder;
use sellerlink::normalize::{EMPTY_AFTER_FOLDING, Normalizer, PLACEHOLDER, Placeholders};

fn all() -> [Normalizer; 7] {
    Normalizer::builtins()
}

fn norm(n: &Normalizer, raw: &str) -> Result<String, String> {
    let mut out = String::new();
    n.normalize(raw, &mut out).map(|()| out).map_err(|e| e.reason().to_string())
}

fn by_name(name: &str) -> Normalizer {
    Normalizer::builtin(name).expect("built in")
}

/// Regression: every Unicode example of the hardening issue, by normaliser, with the spellings
/// that must be one artifact.
#[test]
fn unicode_spellings_fold_to_one_value() {
    let cases: &[(&str, &[&str], &str)] = &[
        // Fullwidth letters.
        ("email", &["ａｎｎ@example.com", "ann@example.com", "ANN@EXAMPLE.COM"], "ann@example.com"),
        ("email", &["ann＠ｅｘａｍｐｌｅ．ｃｏｍ"], "ann@example.com"),
        ("device", &["ＬＡＰＴＯＰ-Ａ", "laptop-a"], "laptop-a"),
        // A zero-width space, a soft hyphen, a byte order mark inside or around a value.
        (
            "device",
            &["laptop\u{200B}-a", "lap\u{AD}top-a", "\u{FEFF}laptop-a", "laptop-a\u{2060}"],
            "laptop-a",
        ),
        ("email", &["an\u{200B}n@example.com", "\u{FEFF}ann@exam\u{AD}ple.com"], "ann@example.com"),
        ("id_document", &["DE89\u{200B}3704", "\u{FEFF}DE89 3704", "DE89\u{AD}3704"], "DE893704"),
        ("phone", &["+86\u{200B}13800138000", "\u{FEFF}+86 138 0013 8000"], "+8613800138000"),
        ("wifi", &["a4:2b:b0:12:34:56\u{FEFF}", "a4\u{200B}2bb0123456"], "a4:2b:b0:12:34:56"),
        // Precomposed against combining accents.
        ("device", &["José", "Jose\u{301}", "JOSÉ", "JOSE\u{301}"], "josé"),
        ("address", &["1 Rue de l'Église", "1 rue de l'E\u{301}glise"], "1 rue de l église"),
        ("email", &["josé@example.com", "jose\u{301}@example.com"], "josé@example.com"),
        // Unicode hyphens and spaces in document and card numbers.
        (
            "payment",
            &[
                "4556-7375-8689-9855",
                "4556\u{2010}7375\u{2010}8689\u{2010}9855",
                "4556\u{2011}7375\u{2011}8689\u{2011}9855",
                "4556\u{2013}7375\u{2014}8689\u{2212}9855",
                "4556\u{FF0D}7375\u{FE63}8689\u{2012}9855",
                "4556\u{A0}7375\u{2009}8689\u{3000}9855",
                "４５５６ ７３７５ ８６８９ ９８５５",
            ],
            "4556737586899855",
        ),
        ("id_document", &["E12\u{2010}345678", "e12-345678"], "E12345678"),
        // Fullwidth digits in addresses.
        ("address", &["１２ Main St.", "12 main st"], "12 main st"),
        (
            "address",
            &["Flat E, ２/F, ２２３ Lockhart St", "flat e 2 f 223 lockhart st"],
            "flat e 2 f 223 lockhart st",
        ),
        // ß against ss: text, email local parts, addresses (and documents).
        ("device", &["Straße", "STRASSE", "strasse", "STRAẞE"], "strasse"),
        ("email", &["straße@example.com", "STRASSE@example.com"], "strasse@example.com"),
        ("address", &["12 Hauptstraße", "12 HAUPTSTRASSE", "12 hauptstrasse"], "12 hauptstrasse"),
        ("id_document", &["STRAßE1", "strasse1"], "STRASSE1"),
        // Fullwidth digits in phones and IPs.
        (
            "phone",
            &["＋８６ １３８ ００１３ ８０００", "+86\u{2011}138\u{2011}0013\u{2011}8000"],
            "+8613800138000",
        ),
        ("ip", &["１９２．０．２．１", "192.0.2.1"], "192.0.2.1"),
        // Email domains by IDNA.
        (
            "email",
            &["ann@Bücher.Example", "ann@xn--bcher-kva.example", "ann@bu\u{308}cher.example"],
            "ann@xn--bcher-kva.example",
        ),
    ];
    let kinds = sellerlink::kind::Kinds::new();
    for &(kind, spellings, canonical) in cases {
        let n = kinds.normalizer(kinds.get(kind).expect("built-in kind"));
        for raw in spellings {
            assert_eq!(norm(n, raw).as_deref(), Ok(canonical), "{kind}: {raw:?}");
        }
    }
}

/// Confusables across scripts are not folded (see the module docs): Cyrillic `а` is not `a`.
#[test]
fn confusables_stay_distinct() {
    let text = by_name("text");
    assert_ne!(norm(&text, "\u{430}nn"), norm(&text, "ann"));
    let email = by_name("email");
    assert_ne!(norm(&email, "\u{430}nn@example.com"), norm(&email, "ann@example.com"));
    assert_ne!(norm(&email, "ann@ex\u{430}mple.com"), norm(&email, "ann@example.com"));
}

/// Regression: a value that folding leaves empty is refused, and links nobody.
#[test]
fn invisible_only_values_are_refused() {
    for raw in ["\u{200B}", "\u{FEFF}", "\u{AD}", "\u{200B}\u{200C}\u{200D}", " \u{200B} "] {
        for n in all() {
            assert_eq!(norm(&n, raw), Err(EMPTY_AFTER_FOLDING.to_string()), "{n:?} {raw:?}");
        }
    }
    let mut b = IndexBuilder::new();
    for account in ["a", "b"] {
        let err = b.add(account, "device", "\u{200B}", None).unwrap_err();
        assert_eq!(err.to_string(), "field value: invalid device: empty after folding");
        b.add(account, "ip", &format!("192.0.2.{}", account.len() + account.as_bytes()[0] as usize), None)
            .unwrap();
    }
    let index = b.build().unwrap();
    assert_ne!(index.cluster_of(index.account("a").unwrap()), index.cluster_of(index.account("b").unwrap()));
}

/// Regression: every placeholder example of the hardening issue, on the kinds it was seen on.
#[test]
fn placeholders_are_refused() {
    let generic = ["(null)", "#N/A", "nan", "NaN", "null", "NULL", "none", "None", "-", "n/a", "unknown"];
    for kind in ["device", "id_document", "payment", "email", "address", "phone", "ip", "wifi", "shoe_size"] {
        for raw in generic {
            let err = IndexBuilder::new().add("a", kind, raw, None).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("field value: invalid {kind}: placeholder"),
                "{kind} {raw:?}"
            );
        }
    }
    let specific: &[(&str, &[&str])] = &[
        ("device", &["00000000-0000-0000-0000-000000000000", "{00000000-0000-0000-0000-000000000000}"]),
        ("email", &["none@none.com", "test@test.com", "Test@Test.com", "noreply@shop.example"]),
        ("payment", &["0000", "0000 0000 0000 0000", "4111 1111 1111 1111", "xxxx-xxxx"]),
        ("id_document", &["xxxxxx", "XXXXXX", "000000000", "123456789"]),
        ("ip", &["127.0.0.1", "::1", "0.0.0.0", "255.255.255.255", "::", "[::1]", "::ffff:127.0.0.1"]),
        ("wifi", &["00:00:00:00:00:00", "FF-FF-FF-FF-FF-FF", "02:00:00:00:00:00"]),
        ("phone", &["1111111", "+1 111 111 1111", "123456789"]),
    ];
    let kinds = sellerlink::kind::Kinds::new();
    for &(kind, raws) in specific {
        let n = kinds.normalizer(kinds.get(kind).expect("built-in kind"));
        for raw in raws {
            assert_eq!(norm(n, raw), Err(PLACEHOLDER.to_string()), "{kind}: {raw:?}");
        }
    }
    // Strangers who both wrote a placeholder are not linked.
    let mut b = IndexBuilder::new();
    for (account, ip) in [("a", "192.0.2.1"), ("b", "198.51.100.2")] {
        b.add(account, "ip", ip, None).unwrap();
        for (kind, raw) in [("payment", "0000"), ("email", "test@test.com"), ("device", "(null)")] {
            assert!(b.add(account, kind, raw, None).is_err());
        }
    }
    let index = b.build().unwrap();
    assert_eq!(index.clustering().len(), 2);
}

/// A kind's placeholder list can be extended, per kind, and the extension is idempotent.
#[test]
fn extended_placeholders_per_kind() {
    let payment = Normalizer::Document
        .with_placeholders(Placeholders::new().value("DE00 0000 0000 0000 0000 01"))
        .unwrap();
    let mut kinds = sellerlink::kind::Kinds::new();
    let k = kinds.register("payment", payment).unwrap();
    assert_eq!(kinds.normalizer(k).name(), "document");
    assert_eq!(norm(kinds.normalizer(k), "de00-0000-0000-0000-0000-01"), Err(PLACEHOLDER.to_string()));
    let doc = kinds.normalizer(kinds.get("id_document").unwrap());
    assert_eq!(norm(doc, "de00-0000-0000-0000-0000-01").as_deref(), Ok("DE00000000000000000001"));
}

/// Characters that exercise folding: compatibility forms, combining marks, invisible
/// characters, dashes, spaces, case-folding specials, spacing accents.
const TRICKY: &[char] = &[
    'a',
    'Z',
    '0',
    '9',
    '-',
    ' ',
    '.',
    '@',
    '+',
    ':',
    '/',
    '(',
    ')',
    'ａ',
    'Ｚ',
    '０',
    '＠',
    '．',
    '\u{200B}',
    '\u{200D}',
    '\u{AD}',
    '\u{FEFF}',
    '\u{2060}',
    '\u{FE0F}',
    '\u{301}',
    '\u{308}',
    '\u{323}',
    '\u{345}',
    '\u{2010}',
    '\u{2011}',
    '\u{2013}',
    '\u{2212}',
    '\u{FF0D}',
    '\u{A0}',
    '\u{3000}',
    '\u{2009}',
    'ß',
    'ẞ',
    'ς',
    'Σ',
    'İ',
    'ı',
    'ǰ',
    'ΐ',
    'ŉ',
    'ﬁ',
    'Ⅻ',
    '①',
    '¨',
    '´',
    '¸',
    'ｶ',
    'ﾞ',
    'ㅤ',
    '\u{FFA0}',
    'é',
    'Å',
    'Å',
    'ü',
    'Ω',
    'Ω',
    'ж',
    'а',
    '中',
    'ᄀ',
    '\u{1161}',
    '가',
    '™',
    '½',
    '\u{E0041}',
];

fn tricky_string(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TRICKY), 0..max).prop_map(|v| v.into_iter().collect())
}

/// An ASCII identifier and the same with fullwidth letters and digits.
fn fullwidth(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '!'..='~' => char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap_or(c),
            _ => c,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn idempotent_on_anything(raw in any::<String>()) {
        for n in all() {
            let mut once = String::new();
            if n.normalize(&raw, &mut once).is_ok() {
                let mut twice = String::new();
                prop_assert!(n.normalize(&once, &mut twice).is_ok(), "{:?} refused its own output {:?}", n, once);
                prop_assert_eq!(&twice, &once, "{:?} not idempotent", n);
            }
        }
    }

    #[test]
    fn idempotent_on_plausible_values(raw in "[ +0-9a-fA-F:.()@ -]{0,24}") {
        for n in all() {
            let mut once = String::new();
            if n.normalize(&raw, &mut once).is_ok() {
                let mut twice = String::new();
                prop_assert!(n.normalize(&once, &mut twice).is_ok());
                prop_assert_eq!(&twice, &once);
            }
        }
    }

    #[test]
    fn idempotent_on_tricky_unicode(raw in tricky_string(12)) {
        for n in all() {
            let mut once = String::new();
            if n.normalize(&raw, &mut once).is_ok() {
                prop_assert!(!once.is_empty());
                let mut twice = String::new();
                prop_assert!(n.normalize(&once, &mut twice).is_ok(), "{:?} refused its own output {:?} of {:?}", n, once, raw);
                prop_assert_eq!(&twice, &once, "{:?} not idempotent on {:?}", n, raw);
            }
        }
    }

    #[test]
    fn idempotent_on_tricky_emails(local in tricky_string(6), domain in tricky_string(6)) {
        let raw = format!("{local}@{domain}.example");
        let n = Normalizer::Email;
        let mut once = String::new();
        if n.normalize(&raw, &mut once).is_ok() {
            let mut twice = String::new();
            prop_assert!(n.normalize(&once, &mut twice).is_ok(), "refused its own output {:?} of {:?}", once, raw);
            prop_assert_eq!(&twice, &once, "not idempotent on {:?}", raw);
        }
    }

    /// Fullwidth spellings, invisible characters and Unicode dashes do not make a new artifact.
    #[test]
    fn unicode_disguises_fold_away(
        id in "[a-zA-Z][a-zA-Z0-9]{5,11}",
        at in 0usize..12,
        invisible in prop::sample::select(&['\u{200B}', '\u{AD}', '\u{FEFF}', '\u{2060}', '\u{200C}'][..]),
        dash in prop::sample::select(&['-', '\u{2010}', '\u{2011}', '\u{2013}', '\u{2014}', '\u{2212}', '\u{FF0D}'][..]),
    ) {
        let at = at.min(id.len());
        let mut hidden = id.clone();
        hidden.insert(at, invisible);
        for n in [Normalizer::Text, Normalizer::Document, Normalizer::Address] {
            let plain = norm(&n, &id);
            prop_assert_eq!(&norm(&n, &fullwidth(&id)), &plain, "{:?} fullwidth", n);
            prop_assert_eq!(&norm(&n, &hidden), &plain, "{:?} invisible", n);
        }
        let email = format!("{id}@example.com");
        prop_assert_eq!(norm(&Normalizer::Email, &fullwidth(&email)), norm(&Normalizer::Email, &email));
        let (a, b) = id.split_at(at);
        prop_assert_eq!(
            norm(&Normalizer::Document, &format!("{a}{dash}{b}")),
            norm(&Normalizer::Document, &format!("{a}-{b}"))
        );
    }

    #[test]
    fn mac_forms_fold(bytes in prop::array::uniform6(any::<u8>())) {
        let placeholder = bytes.iter().all(|&b| b == 0) || bytes.iter().all(|&b| b == 0xff) || bytes == [2, 0, 0, 0, 0, 0];
        let colon = bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":");
        let dash = bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join("-");
        let bare: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        if placeholder {
            prop_assert_eq!(norm(&Normalizer::Mac, &colon), Err(PLACEHOLDER.to_string()));
            return Ok(());
        }
        let a = norm(&Normalizer::Mac, &colon).expect("valid");
        prop_assert_eq!(&a, &colon);
        prop_assert_eq!(norm(&Normalizer::Mac, &dash), Ok(a.clone()));
        prop_assert_eq!(norm(&Normalizer::Mac, &bare), Ok(a));
    }

    #[test]
    fn ipv4_and_mapped_fold(o in prop::array::uniform4(any::<u8>())) {
        let v4 = format!("{}.{}.{}.{}", o[0], o[1], o[2], o[3]);
        let mapped = format!("::ffff:{v4}");
        let a = norm(&Normalizer::Ip, &v4);
        prop_assert_eq!(&a, &norm(&Normalizer::Ip, &mapped));
        let placeholder = o == [0, 0, 0, 0] || o[0] == 127 || o == [255; 4];
        prop_assert_eq!(a.is_err(), placeholder);
    }
}
