//! Why this exists: rows name roles, skills, queues and the like, and writes need their ids.
//!
//! The named objects rows refer to, listed whole once in the preflight:
//! roles, skills, languages, queues, groups, locations. Names are matched
//! on our side (Genesys' own filters differ: skills by prefix, queues with
//! wildcards), so each listing is fetched without a filter.

use serde::Deserialize;

use super::{CallError, Client, Listing};

/// An object with an id and a name.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Named {
    pub id: String,
    #[serde(default)]
    pub name: String,
}

/// The listings genimport reads, and the page size each allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Catalog {
    Roles,
    Skills,
    Languages,
    Queues,
    Groups,
    Locations,
    WrapupCodes,
}

impl Catalog {
    fn path(self) -> &'static str {
        match self {
            Catalog::Roles => "/api/v2/authorization/roles",
            Catalog::Skills => "/api/v2/routing/skills",
            Catalog::Languages => "/api/v2/routing/languages",
            // "simplified queue objects ... a digest of all queues"
            Catalog::Queues => "/api/v2/routing/queues/divisionviews/all",
            Catalog::Groups => "/api/v2/groups",
            Catalog::Locations => "/api/v2/locations",
            Catalog::WrapupCodes => "/api/v2/routing/wrapupcodes",
        }
    }

    fn page_size(self) -> u32 {
        match self {
            Catalog::Roles | Catalog::Languages | Catalog::Locations | Catalog::WrapupCodes => 100,
            Catalog::Skills | Catalog::Queues | Catalog::Groups => 500,
        }
    }

    pub fn noun(self) -> &'static str {
        match self {
            Catalog::Roles => "role",
            Catalog::Skills => "skill",
            Catalog::Languages => "language",
            Catalog::Queues => "queue",
            Catalog::Groups => "group",
            Catalog::Locations => "location",
            Catalog::WrapupCodes => "wrap-up code",
        }
    }
}

impl Client {
    /// Every object of a catalog.
    pub async fn list_all(&self, catalog: Catalog) -> Result<Vec<Named>, CallError> {
        self.paged(catalog.path(), catalog.page_size()).await
    }

    /// The ids of every entity of a paged listing (members, wrap-up codes).
    pub(crate) async fn paged_ids(&self, path: &str) -> Result<Vec<String>, CallError> {
        let entities: Vec<Named> = self.paged(path, 100).await?;
        Ok(entities.into_iter().map(|e| e.id).collect())
    }

    /// Every entity of a paged listing (at most 1,000 pages).
    pub(crate) async fn paged<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        page_size: u32,
    ) -> Result<Vec<T>, CallError> {
        let mut all = Vec::new();
        for page in 1u32.. {
            let listing: Listing<T> = self
                .get_json(
                    path,
                    &[
                        ("pageSize", page_size.to_string()),
                        ("pageNumber", page.to_string()),
                    ],
                )
                .await?;
            let empty = listing.entities.is_empty();
            all.extend(listing.entities);
            let more = match listing.page_count {
                Some(count) => page < count,
                None => listing.next_uri.is_some(),
            };
            if empty || !more || page >= 1000 {
                break;
            }
        }
        Ok(all)
    }
}
