//! Normalisers are idempotent on whatever they accept, and never panic.

use proptest::prelude::*;
use sellerlink::normalize::Normalizer;

fn all() -> [Normalizer; 7] {
    Normalizer::builtins()
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
    fn mac_forms_fold(bytes in prop::array::uniform6(any::<u8>())) {
        prop_assume!(bytes.iter().any(|&b| b != 0) && bytes.iter().any(|&b| b != 0xff));
        let colon = bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":");
        let dash = bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join("-");
        let bare: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut a = String::new();
        let mut b = String::new();
        let mut c = String::new();
        Normalizer::Mac.normalize(&colon, &mut a).expect("valid");
        Normalizer::Mac.normalize(&dash, &mut b).expect("valid");
        Normalizer::Mac.normalize(&bare, &mut c).expect("valid");
        prop_assert_eq!(&a, &colon);
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(&a, &c);
    }

    #[test]
    fn ipv4_and_mapped_fold(o in prop::array::uniform4(any::<u8>())) {
        prop_assume!(o != [0, 0, 0, 0]);
        let v4 = format!("{}.{}.{}.{}", o[0], o[1], o[2], o[3]);
        let mapped = format!("::ffff:{v4}");
        let mut a = String::new();
        let mut b = String::new();
        Normalizer::Ip.normalize(&v4, &mut a).expect("valid");
        Normalizer::Ip.normalize(&mapped, &mut b).expect("valid");
        prop_assert_eq!(a, b);
    }
}
