//! Why this exists: `genimport export` reads the whole org in bulk
//! (docs/genesys-api.md#bulk-reads-export), never one request per user: paged user lists with their
//! expands, each role's subject grants, each queue's and each group's
//! member lists, and whole queues. Search cannot do it (10,000-result cap).

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use super::catalog::Named;
use super::pages::Paged;
use super::{CallError, Client, Listing};

/// Entries per page of the member and grant lists (100 is the documented
/// queue-member maximum; the others are undocumented).
pub const MEMBER_PAGE: u32 = 100;
/// Whole queues per page of `GET /api/v2/routing/queues`.
pub const QUEUE_PAGE: u32 = 100;
/// What a user page carries beyond the basics (one repeated `expand` each).
pub const USER_EXPAND: [&str; 4] = ["skills", "languages", "locations", "employerInfo"];

/// A subject granted a role (`GET /api/v2/authorization/roles/{id}/subjectgrants`):
/// a user (`PC_USER`) or a group (`PC_GROUP`, whose members inherit it).
#[derive(Debug, Clone, Deserialize)]
pub struct SubjectGrants {
    pub id: String,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub divisions: Vec<Named>,
}

impl SubjectGrants {
    /// A grant to the user itself, not one it inherits from a group.
    pub fn is_direct_user(&self) -> bool {
        self.kind.as_deref().is_none_or(|k| k == "PC_USER")
    }
}

/// A queue member (`GET /api/v2/routing/queues/{id}/members`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueMember {
    pub id: String,
    #[serde(default)]
    pub member_by: Option<String>,
}

impl QueueMember {
    /// A member in its own right, not through a group.
    pub fn is_direct(&self) -> bool {
        self.member_by.as_deref().is_none_or(|m| m == "user")
    }
}

impl Client {
    /// Every entity of a paged listing, with `query` added to each page
    /// request; `on_page` hears how many entities each page brought.
    pub(crate) async fn paged_query<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        page_size: u32,
        mut on_page: impl FnMut(usize),
    ) -> Result<Vec<T>, CallError> {
        let mut all = Vec::new();
        for page in 1u32.. {
            let mut params: Vec<(&str, String)> = vec![
                ("pageSize", page_size.to_string()),
                ("pageNumber", page.to_string()),
            ];
            params.extend(query.iter().cloned());
            let listing: Listing<T> = self.get_json(path, &params).await?;
            let count = listing.entities.len();
            all.extend(listing.entities);
            on_page(count);
            let more = match listing.page_count {
                Some(pages) => page < pages,
                None => listing.next_uri.is_some(),
            };
            if count == 0 || !more || page >= 10_000 {
                break;
            }
        }
        Ok(all)
    }

    /// The subjects a role is granted to, with the divisions of each grant
    /// (a role every user holds runs to hundreds of pages: `concurrency`
    /// of them at once).
    pub async fn role_subject_grants(
        &self,
        role_id: &str,
        concurrency: usize,
    ) -> Result<Vec<SubjectGrants>, CallError> {
        let path = format!("/api/v2/authorization/roles/{role_id}/subjectgrants");
        let paged = Paged {
            path: &path,
            query: Vec::new(),
            page_size: MEMBER_PAGE,
            last_page: 10_000,
        };
        let mut all = Vec::new();
        self.each_page(&paged, concurrency, |page| all.extend(page))
            .await?;
        Ok(all)
    }

    /// The user members of a queue (group-derived members left out).
    pub async fn queue_user_members(&self, queue_id: &str) -> Result<Vec<QueueMember>, CallError> {
        let members: Vec<QueueMember> = self
            .paged_query(
                &format!("/api/v2/routing/queues/{queue_id}/members"),
                &[("memberBy", "user".to_string())],
                MEMBER_PAGE,
                drop,
            )
            .await?;
        Ok(members.into_iter().filter(QueueMember::is_direct).collect())
    }

    /// The user ids of a group's members.
    pub async fn group_member_ids(&self, group_id: &str) -> Result<Vec<String>, CallError> {
        let members: Vec<Named> = self
            .paged_query(
                &format!("/api/v2/groups/{group_id}/members"),
                &[],
                MEMBER_PAGE,
                drop,
            )
            .await?;
        Ok(members.into_iter().map(|m| m.id).collect())
    }

    /// Every queue, whole (the listing carries each queue's settings).
    pub async fn whole_queues(&self) -> Result<Vec<Value>, CallError> {
        self.paged_query("/api/v2/routing/queues", &[], QUEUE_PAGE, drop)
            .await
    }
}
