//! Keyset pagination shared by every List operation: the model's constraints on
//! `maxResults` and `nextToken`, the token bound to its listing, and cutting a page that was
//! fetched one row long to learn whether another page follows.

use std::fmt::Display;
use std::str::FromStr;

use super::validate::{Violations, PAGE_TOKEN};
use super::ApiError;
use crate::domain::token;

/// Model constraints of `maxResults` (`PageSize`, 0–`max`) and `nextToken` (`PageToken`).
pub fn check_paging(v: &mut Violations, max_results: Option<i64>, next_token: Option<&str>) {
    v.range("maxResults", max_results, 0, 1000);
    v.member("nextToken", next_token, PAGE_TOKEN);
}

/// Where one page of listing `(op, owner)` starts and how long it is.
#[derive(Debug, Clone)]
pub struct Paging<K> {
    op: &'static str,
    owner: String,
    /// The last key of the previous page; None on the first.
    pub after: Option<K>,
    /// Rows in a page: `maxResults`, 0 or absent meaning the service default of 100.
    pub limit: usize,
}

impl<K: FromStr + Display> Paging<K> {
    /// Decodes the client's token; a token this listing did not mint is InvalidToken.
    pub fn start(
        op: &'static str,
        owner: impl Into<String>,
        max_results: Option<i64>,
        next_token: Option<&str>,
    ) -> Result<Self, ApiError> {
        let owner = owner.into();
        let after = match next_token {
            None => None,
            Some(t) => Some(token::decode(t, op, &owner).ok_or_else(ApiError::invalid_token)?),
        };
        Ok(Paging {
            op,
            owner,
            after,
            limit: page_size(max_results),
        })
    }

    /// How many rows to fetch: one more than a page, to learn whether another follows.
    pub fn fetch(&self) -> usize {
        self.limit + 1
    }

    /// Cuts `rows` (fetched with [`Paging::fetch`]) to a page and mints the token of the
    /// next page from the last row's key, if there is a next page.
    pub fn finish<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> K) -> (Vec<T>, Option<String>) {
        if rows.len() <= self.limit {
            return (rows, None);
        }
        rows.truncate(self.limit);
        let next = rows
            .last()
            .map(|last| token::encode(self.op, &self.owner, &key(last)));
        (rows, next)
    }
}

/// `maxResults`: 0 or absent means the service default of 100.
pub fn page_size(max_results: Option<i64>) -> usize {
    match max_results {
        None | Some(0) => 100,
        Some(n) => n.clamp(1, 1000) as usize,
    }
}

/// One page of a listing of the caller's resources by name (ListStateMachines,
/// ListActivities): the checks, the token bound to `op` and the scope, the keyset read.
pub async fn page_by_name<T, F>(
    ctx: &super::Ctx,
    op: &'static str,
    max_results: Option<i64>,
    next_token: Option<&str>,
    mut fetch: F,
    name: fn(&T) -> String,
) -> Result<(Vec<T>, Option<String>), ApiError>
where
    T: Send + 'static,
    F: FnMut(
            &dyn crate::store::Tx,
            &crate::domain::scope::Scope,
            Option<&str>,
            usize,
        ) -> crate::store::repo::Result<Vec<T>>
        + Send
        + 'static,
{
    let mut v = Violations::default();
    check_paging(&mut v, max_results, next_token);
    v.finish()?;
    let paging: Paging<String> = Paging::start(op, ctx.scope.key(), max_results, next_token)?;
    let scope = ctx.scope.clone();
    ctx.store
        .read(move |tx| {
            let rows = fetch(tx, &scope, paging.after.as_deref(), paging.fetch())?;
            Ok(paging.finish(rows, name))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_fetched_one_row_long_has_a_next_token_for_its_last_key() {
        let p: Paging<i64> = Paging::start("Op", "owner", Some(2), None).unwrap();
        let (rows, next) = p.finish(vec![1, 2, 3], |r| *r);
        assert_eq!(rows, [1, 2]);
        let resumed: Paging<i64> = Paging::start("Op", "owner", Some(2), next.as_deref()).unwrap();
        assert_eq!(resumed.after, Some(2));
        let (rows, next) = resumed.finish(vec![3], |r| *r);
        assert_eq!((rows, next), (vec![3], None));
        assert!(Paging::<i64>::start("Op", "other", None, Some("x")).is_err());
    }
}
