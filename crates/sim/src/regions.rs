//! The region catalogue of the simulated `aws` partition.
//!
//! AWS enables 17 commercial regions in every account and cannot disable them
//! (`ENABLED_BY_DEFAULT`); every later region is opt-in and `DISABLED` until an
//! account enables it. A disabled opt-in region answers every regional call with
//! `UnrecognizedClientException`, which is what a scanner has to recognise.

/// Regions enabled in every account (`RegionOptStatus = ENABLED_BY_DEFAULT`).
pub const DEFAULT_ENABLED: &[&str] = &[
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-north-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

/// Opt-in regions (`DISABLED` unless the account enabled them).
pub const OPT_IN: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-west-1",
    "eu-central-2",
    "eu-south-1",
    "eu-south-2",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
];

/// Whether a region exists in the catalogue, and if so whether it is opt-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionKind {
    DefaultEnabled,
    OptIn,
}

pub fn kind(region: &str) -> Option<RegionKind> {
    if DEFAULT_ENABLED.contains(&region) {
        Some(RegionKind::DefaultEnabled)
    } else if OPT_IN.contains(&region) {
        Some(RegionKind::OptIn)
    } else {
        None
    }
}

/// Every catalogued region, sorted by name (the order `ListRegions` answers in).
pub fn all() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = DEFAULT_ENABLED.iter().chain(OPT_IN).copied().collect();
    all.sort_unstable();
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seventeen_default_regions_and_no_overlap() {
        assert_eq!(DEFAULT_ENABLED.len(), 17);
        for region in OPT_IN {
            assert_eq!(kind(region), Some(RegionKind::OptIn), "{region}");
        }
        assert_eq!(kind("us-east-1"), Some(RegionKind::DefaultEnabled));
        assert_eq!(kind("us-east-9"), None);
        let all = all();
        assert!(all.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
    }
}
