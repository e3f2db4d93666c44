//! Why this exists: a big org's listings run to hundreds of pages. The
//! first page says how many there are; the rest then go out `concurrency`
//! at a time (each request still waits for a token's pacer, so `--tokens`
//! spreads them), and each page is handed on as it arrives: no listing is
//! held whole, no page is read twice. Genesys' own Terraform provider pages
//! users the same way (`pageCount` from page 1, pages 2..N in parallel).

use futures_util::stream::{self, StreamExt};
use serde::de::DeserializeOwned;

use super::{CallError, Client, Listing};

/// One paged `GET` listing: its path, its query beyond the paging, its page
/// size, and the last page it may read (a result cap; `u32::MAX`: none).
pub(crate) struct Paged<'a> {
    pub path: &'a str,
    pub query: Vec<(&'static str, String)>,
    pub page_size: u32,
    pub last_page: u32,
}

impl Paged<'_> {
    fn params(&self, number: u32) -> Vec<(&str, String)> {
        let mut params: Vec<(&str, String)> = vec![
            ("pageSize", self.page_size.to_string()),
            ("pageNumber", number.to_string()),
        ];
        params.extend(self.query.iter().cloned());
        params
    }
}

/// What the first page says of the rest: `pageCount`, or whether a
/// `nextUri` follows a non-empty page.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    pub page_count: Option<u32>,
    pub more: bool,
}

impl Shape {
    pub(crate) fn of<T>(listing: &Listing<T>) -> Shape {
        Shape {
            page_count: listing.page_count,
            more: listing.next_uri.is_some() && !listing.entities.is_empty(),
        }
    }
}

impl Client {
    /// One page of a listing.
    pub(crate) async fn page<T: DeserializeOwned>(
        &self,
        paged: &Paged<'_>,
        number: u32,
    ) -> Result<Listing<T>, CallError> {
        self.get_json(paged.path, &paged.params(number)).await
    }

    /// The pages after the first (already read, its `Shape` given), to `on_page` as they arrive:
    /// concurrently when `pageCount` is known, else one after another by
    /// `nextUri`. Returns how many pages were read in all.
    pub(crate) async fn rest_of<T: DeserializeOwned>(
        &self,
        paged: &Paged<'_>,
        first: Shape,
        concurrency: usize,
        mut on_page: impl FnMut(Vec<T>),
    ) -> Result<u32, CallError> {
        let Some(count) = first.page_count else {
            let mut more = first.more;
            let mut number = 1;
            while more && number < paged.last_page.min(10_000) {
                number += 1;
                let listing: Listing<T> = self.page(paged, number).await?;
                more = listing.next_uri.is_some() && !listing.entities.is_empty();
                on_page(listing.entities);
            }
            return Ok(number);
        };
        let last = count.min(paged.last_page).max(1);
        let mut pages = stream::iter(2..=last)
            .map(|number| self.page::<T>(paged, number))
            .buffer_unordered(concurrency.max(1));
        while let Some(listing) = pages.next().await {
            on_page(listing?.entities);
        }
        Ok(last)
    }

    /// Every page of a listing, to `on_page` as each arrives.
    pub(crate) async fn each_page<T: DeserializeOwned>(
        &self,
        paged: &Paged<'_>,
        concurrency: usize,
        mut on_page: impl FnMut(Vec<T>),
    ) -> Result<u32, CallError> {
        let first: Listing<T> = self.page(paged, 1).await?;
        let shape = Shape::of(&first);
        on_page(first.entities);
        self.rest_of(paged, shape, concurrency, on_page).await
    }
}

/// Page sizes and caps of the user listings: Genesys' values, which tests
/// and benchmarks may lower (hidden flags) to exercise them on small orgs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// Users per page of `GET /api/v2/users` (500, as Terraform reads them).
    pub user_page: u32,
    /// Results an offset listing of inactive users, or a search, pages
    /// through at most: 10,000 (developer.genesys.cloud "Search limits";
    /// Terraform's DEVTOOLING-862 for `state=inactive`).
    pub results_cap: u32,
}

impl Default for Paging {
    fn default() -> Self {
        Paging {
            user_page: 500,
            results_cap: 10_000,
        }
    }
}
