//! Storage listings page by page, one way for all of them (Blob `NextMarker`, DFS `x-ms-continuation`, the Delta
//! log listing built on Blob): follow the service's continuation token until it stops giving one, and stop with
//! an error instead of looping when it hands out a token it already gave.

use std::collections::HashSet;
use std::future::Future;

use futures_util::Stream;

use crate::error::Error;

/// One page: its items and the token for the next page, if any.
pub(crate) type Page<T> = (Vec<T>, Option<String>);

/// The pages of a listing. `fetch(token)` gets the page after `token` (`None`: the first page); `what` names the
/// listing in the error a repeated token produces.
pub(crate) fn pages<T, F, Fut>(what: String, fetch: F) -> impl Stream<Item = Result<Vec<T>, Error>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page<T>, Error>>,
{
    struct State<F> {
        fetch: F,
        /// `Some(token)` while there is a page to get (`Some(None)` for the first).
        next: Option<Option<String>>,
        seen: HashSet<String>,
        items: usize,
        what: String,
    }
    let state = State { fetch, next: Some(None), seen: HashSet::new(), items: 0, what };
    futures_util::stream::try_unfold(state, |mut state| async move {
        let Some(token) = state.next.take() else { return Ok(None) };
        let (items, following) = (state.fetch)(token).await?;
        state.items += items.len();
        match following.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()) {
            None => {}
            Some(next) if state.seen.insert(next.clone()) => state.next = Some(Some(next)),
            Some(_) => {
                return Err(Error::Remote(format!(
                    "listing {}: the service returned the same continuation token twice; stopping after {} items \
                     instead of looping",
                    state.what, state.items
                )));
            }
        }
        Ok(Some((items, state)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::TryStreamExt;

    #[tokio::test]
    async fn follows_tokens_until_none_and_refuses_a_repeat() {
        let script = |tokens: Vec<Option<&'static str>>| {
            move |token: Option<String>| {
                let at = token.as_deref().map_or(0, |t| t.trim_start_matches('p').parse::<usize>().unwrap_or(0));
                let next = tokens.get(at).copied().flatten().map(str::to_string);
                async move { Ok::<_, Error>((vec![at], next)) }
            }
        };
        let all: Vec<Vec<usize>> =
            pages("x".into(), script(vec![Some("p1"), Some("p2"), None])).try_collect().await.unwrap();
        assert_eq!(all, vec![vec![0], vec![1], vec![2]]);
        let one: Vec<Vec<usize>> = pages("x".into(), script(vec![Some("  ")])).try_collect().await.unwrap();
        assert_eq!(one, vec![vec![0]], "a blank token ends the listing");
        let looping = pages("c/prefix in account a".into(), script(vec![Some("p1"), Some("p1")]));
        let err = looping.try_collect::<Vec<Vec<usize>>>().await.unwrap_err();
        assert!(err.to_string().contains("c/prefix in account a") && err.to_string().contains("twice"), "{err}");
        assert_eq!(err.exit_status().code(), 4);
    }
}
