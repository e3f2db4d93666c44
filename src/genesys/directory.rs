//! Why this exists: reading every user of an org, for the export and for an
//! existence lookup that lists instead of searching. `GET /api/v2/users`
//! pages (500 a page) every active user; Genesys refuses to page inactive
//! users past 10,000 (a 400; Terraform's DEVTOOLING-862), so above that the
//! inactive users are read by search, one group of divisions at a time,
//! each group under search's own 10,000-result cap. What even that cannot
//! reach (one division alone above the cap) is counted, never skipped
//! silently.

use std::collections::HashSet;

use futures_util::stream::{self, StreamExt};
use serde_json::{json, Value};

use super::pages::{Paged, Shape};
use super::users::User;
use super::{CallError, Client, Listing};

/// Values per search criterion (developer.genesys.cloud "Search limits").
const DIVISIONS_PER_SEARCH: usize = 50;
/// Results per search page (the documented maximum).
const SEARCH_PAGE: u32 = 100;

/// How one state's users are read.
pub struct UserListing<'a> {
    pub state: &'a str,
    pub expand: &'a [&'a str],
    pub concurrency: usize,
}

impl Client {
    /// How many users the org has, deleted ones included (`state=any`):
    /// one page of one user, read for its `total`.
    pub async fn count_users(&self) -> Result<u64, CallError> {
        let listing: Listing<Value> = self
            .get_json(
                "/api/v2/users",
                &[
                    ("pageSize", "1".to_string()),
                    ("pageNumber", "1".to_string()),
                    ("state", "any".to_string()),
                ],
            )
            .await?;
        Ok(listing.total.unwrap_or(listing.entities.len() as u64))
    }

    /// Every user in one state, a page at a time to `on_users`. Returns
    /// how many users of that state could not be read (past every cap).
    pub async fn each_user(
        &self,
        listing: &UserListing<'_>,
        mut on_users: impl FnMut(Vec<User>),
    ) -> Result<u64, CallError> {
        let cap = self.paging().results_cap;
        let mut query = vec![("state", listing.state.to_string())];
        if listing.state != "active" {
            // Past the cap the rest is read from the other end (see `both_ends`).
            query.push(("sortOrder", "ascending".to_string()));
        }
        query.extend(listing.expand.iter().map(|e| ("expand", (*e).to_string())));
        let mut paged = Paged {
            path: "/api/v2/users",
            query,
            page_size: self.paging().user_page.max(1),
            last_page: u32::MAX,
        };
        let first: Listing<User> = loop {
            match self.page(&paged, 1).await {
                // "Reduce pageSize or expand list": a smaller page, same expands.
                Err(CallError::Rejected {
                    status: 400,
                    code: Some(code),
                    ..
                }) if code == "response.entity.too.large" && paged.page_size > 25 => {
                    paged.page_size /= 2;
                }
                other => break other?,
            }
        };
        let capped = listing.state != "active";
        let total = first.total.unwrap_or(0);
        if capped && total > u64::from(cap) && total <= 2 * u64::from(cap) {
            return self.both_ends(&mut paged, first, listing, on_users).await;
        }
        if capped && total > u64::from(cap) {
            tracing::info!(
                state = listing.state,
                users = total,
                cap,
                "more users than Genesys pages in this state: reading them by search, division by division"
            );
            return self.search_by_divisions(listing, on_users).await;
        }
        if capped {
            paged.last_page = cap.div_ceil(paged.page_size).max(1);
        }
        let shape = Shape::of(&first);
        on_users(first.entities);
        self.rest_of(&paged, shape, listing.concurrency, on_users)
            .await?;
        Ok(0)
    }

    /// Up to twice the cap: the first `cap` users in ascending order, the
    /// rest from the descending end (each end stays under the cap; Genesys
    /// does not document the sort key, so the ids are counted, and a
    /// listing that does not add up to `total` is read again by search).
    async fn both_ends(
        &self,
        paged: &mut Paged<'_>,
        first: Listing<User>,
        listing: &UserListing<'_>,
        mut on_users: impl FnMut(Vec<User>),
    ) -> Result<u64, CallError> {
        let cap = self.paging().results_cap;
        let total = first.total.unwrap_or(0);
        let mut seen: HashSet<String> = HashSet::new();
        let mut fresh = |users: Vec<User>| {
            on_users(
                users
                    .into_iter()
                    .filter(|u| seen.insert(u.id.clone()))
                    .collect(),
            );
            seen.len()
        };
        let shape = Shape::of(&first);
        let mut read = fresh(first.entities);
        paged.last_page = (cap / paged.page_size).max(1);
        self.rest_of(paged, shape, listing.concurrency, |users| {
            read = fresh(users)
        })
        .await?;
        if read as u64 >= total {
            return Ok(0);
        }
        let rest = total.saturating_sub(u64::from(paged.last_page * paged.page_size));
        // Never past the cap from this end either: a shortfall is searched.
        paged.last_page =
            (rest.div_ceil(u64::from(paged.page_size)) as u32).min(cap / paged.page_size);
        for (key, value) in paged.query.iter_mut() {
            if *key == "sortOrder" {
                *value = "descending".to_string();
            }
        }
        let from_end = Shape {
            page_count: Some(paged.last_page),
            more: true,
        };
        let last: Listing<User> = self.page(paged, 1).await?;
        read = fresh(last.entities);
        self.rest_of(paged, from_end, listing.concurrency, |users| {
            read = fresh(users)
        })
        .await?;
        if (read as u64) < total {
            tracing::info!(
                state = listing.state,
                users = total,
                read,
                "both ends of the listing did not add up to every user: reading them by search"
            );
            return self
                .search_by_divisions(listing, |users| {
                    fresh(users);
                })
                .await;
        }
        Ok(0)
    }

    /// The users of one state by search, the org's divisions taken in
    /// groups of at most 50, a group halved while it holds more users than
    /// search pages through. Returns how many users no group could reach.
    async fn search_by_divisions(
        &self,
        listing: &UserListing<'_>,
        mut on_users: impl FnMut(Vec<User>),
    ) -> Result<u64, CallError> {
        let cap = u64::from(self.paging().results_cap);
        let ids: Vec<String> = self
            .all_divisions()
            .await?
            .into_iter()
            .map(|d| d.id)
            .collect();
        let mut groups: Vec<Vec<String>> = ids
            .chunks(DIVISIONS_PER_SEARCH)
            .map(<[String]>::to_vec)
            .collect();
        let mut unread = 0u64;
        while let Some(group) = groups.pop() {
            let query = [
                json!({"type": "EXACT", "fields": ["state"], "values": [listing.state]}),
                json!({"type": "EXACT", "fields": ["divisionId"], "values": group}),
            ];
            let first = self
                .search_page(&query, listing.expand, SEARCH_PAGE, 1)
                .await?;
            let total = first.total.unwrap_or(first.results.len() as u64);
            if total > cap && group.len() > 1 {
                let (left, right) = group.split_at(group.len() / 2);
                groups.push(left.to_vec());
                groups.push(right.to_vec());
                continue;
            }
            if total > cap {
                tracing::warn!(
                    division = %group[0],
                    state = listing.state,
                    users = total,
                    cap,
                    "one division holds more users in this state than search can page through"
                );
                unread += total - cap;
            }
            on_users(first.results);
            let last = total.min(cap).div_ceil(u64::from(SEARCH_PAGE)).max(1) as u32;
            let mut pages = stream::iter(2..=last)
                .map(|number| self.search_page(&query, listing.expand, SEARCH_PAGE, number))
                .buffer_unordered(listing.concurrency.max(1));
            while let Some(page) = pages.next().await {
                on_users(page?.results);
            }
        }
        Ok(unread)
    }
}
