//! Dense identifiers: small `u32` newtypes for accounts, artifacts, kinds and clusters.
//!
//! Inside sellerlink every entity is a dense `u32` (the same width Roaring indexes); the user's
//! strings appear only at the edges (ingest, lookups by name, reports). Each id type has a
//! checked constructor ([`AccountId::new`]), a panicking one for code that has already checked
//! ([`AccountId::must`]) and conversions to `usize`/`u32`.

use core::fmt;

/// The error returned when a `usize` does not fit an id type.
///
/// # Examples
///
/// ```
/// use sellerlink::AccountId;
/// assert!(AccountId::new(u32::MAX as usize + 1).is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdError {
    what: &'static str,
    value: u64,
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} id {} exceeds the limit of {}", self.what, self.value, u32::MAX - 1)
    }
}

impl std::error::Error for IdError {}

/// A dense `u32` id (or a plain `u32`): what the crate's CSR arrays and relabelling routines
/// store, so that they can hand out typed slices.
pub(crate) trait Dense: Copy {
    /// Wraps a raw value.
    fn from_u32(value: u32) -> Self;
    /// The raw value.
    fn as_u32(self) -> u32;
    /// The raw value, for indexing.
    #[inline]
    fn index(self) -> usize {
        self.as_u32() as usize
    }
}

impl Dense for u32 {
    #[inline]
    fn from_u32(value: u32) -> Self {
        value
    }

    #[inline]
    fn as_u32(self) -> u32 {
        self
    }
}

macro_rules! define_id {
    ($(#[$doc:meta])* $name:ident, $what:literal, $prefix:literal) => {
        $(#[$doc])*
        #[repr(transparent)]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[derive(serde::Serialize, serde::Deserialize)]
        pub struct $name(u32);

        impl $name {
            /// The largest value this id can hold (`u32::MAX - 1`; `u32::MAX` is reserved).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use sellerlink::", stringify!($name), ";")]
            #[doc = concat!("assert!(", stringify!($name), "::new(", stringify!($name), "::MAX as usize).is_ok());")]
            /// ```
            pub const MAX: u32 = u32::MAX - 1;

            /// Creates an id, or an error when `value` exceeds [`Self::MAX`].
            ///
            /// # Errors
            ///
            /// Returns [`IdError`] when `value > Self::MAX`.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use sellerlink::", stringify!($name), ";")]
            #[doc = concat!("assert_eq!(", stringify!($name), "::new(7)?.as_usize(), 7);")]
            /// # Ok::<(), sellerlink::IdError>(())
            /// ```
            #[inline]
            pub fn new(value: usize) -> Result<Self, IdError> {
                if value > Self::MAX as usize {
                    Err(IdError { what: $what, value: value as u64 })
                } else {
                    Ok(Self(value as u32))
                }
            }

            /// Creates an id from a value already known to fit.
            ///
            /// # Panics
            ///
            /// Panics when `value` exceeds [`Self::MAX`].
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use sellerlink::", stringify!($name), ";")]
            #[doc = concat!("assert_eq!(", stringify!($name), "::must(3).as_u32(), 3);")]
            /// ```
            #[inline]
            #[track_caller]
            pub fn must(value: usize) -> Self {
                match Self::new(value) {
                    Ok(id) => id,
                    Err(e) => panic!("{e}"),
                }
            }

            /// Wraps a raw `u32` (for example a value read from a bitmap).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use sellerlink::", stringify!($name), ";")]
            #[doc = concat!("assert_eq!(", stringify!($name), "::from_u32(5).as_u32(), 5);")]
            /// ```
            #[inline]
            pub const fn from_u32(value: u32) -> Self {
                Self(value)
            }

            /// The id as a `usize`, for indexing.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use sellerlink::", stringify!($name), ";")]
            #[doc = concat!("assert_eq!(", stringify!($name), "::must(9).as_usize(), 9);")]
            /// ```
            #[inline]
            pub const fn as_usize(self) -> usize {
                self.0 as usize
            }

            /// The id as a `u32`.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("use sellerlink::", stringify!($name), ";")]
            #[doc = concat!("assert_eq!(", stringify!($name), "::must(9).as_u32(), 9);")]
            /// ```
            #[inline]
            pub const fn as_u32(self) -> u32 {
                self.0
            }
        }

        impl Dense for $name {
            #[inline]
            fn from_u32(value: u32) -> Self {
                Self(value)
            }

            #[inline]
            fn as_u32(self) -> u32 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

define_id!(
    /// A storefront / seller account. Ids are dense in a fresh build (in account-name order) and
/// stable across updates: an update appends new accounts and never renumbers old ones (an
/// account removed by an update leaves its id unused; see [`crate::Index::check`]).
    AccountId, "account", "A"
);
define_id!(
    /// An artifact (a device, router, IP, document, ...), dense in `0..index.artifact_count()`.
    ArtifactId, "artifact", "F"
);
define_id!(
    /// A cluster (a linked component or an operator), dense in `0..clustering.len()`.
    ClusterId, "cluster", "C"
);
define_id!(
    /// An artifact kind (`device`, `ip`, or a kind the user named), dense in `0..kinds.len()`.
    KindId, "kind", "K"
);
