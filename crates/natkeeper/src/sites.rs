//! Where natkeeper's DNATed connections would be rejected: the chains that need a hole, as
//! discovery's walk of the forward hook finds them ([`crate::discover::Landscape`]).

use natkeeper_nft::Ruleset;

use crate::discover::{HolePlace, Landscape, LegacyTables};
use crate::holes::{Site, SiteInfo};

/// The sites in `ruleset` where a hole is needed, with the first blocking rule of each.
pub fn hole_sites(ruleset: &Ruleset) -> Vec<SiteInfo> {
    let landscape = Landscape::from_ruleset(ruleset, LegacyTables::default());
    [
        (HolePlace::IptablesForward, Site::IptablesForward),
        (HolePlace::LibvirtGuestInput, Site::LibvirtGuestInput),
    ]
    .into_iter()
    .filter_map(|(place, site)| {
        landscape.hole(place).map(|h| SiteInfo { site, first_blocking: h.before.and_then(|r| r.handle) })
    })
    .collect()
}
