//! The key order AWS's results come in where it builds them in a Java `HashMap` (JSONPath
//! payload templates' `.$` members, `States.JsonMerge`): iteration order of the map's buckets,
//! not insertion order. Recorded on about thirty objects (asl-semantics.md §2.2).

/// Java's `String.hashCode` over UTF-16 code units.
fn java_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// The indexes of `keys` in the order a Java `HashMap` holding exactly these keys iterates
/// them: by bucket `(h ^ h >>> 16) & (capacity - 1)`, capacity the smallest power of two
/// from 16 up that keeps the load factor at most 0.75; ties in insertion order.
pub fn java_hash_order<'a>(keys: impl IntoIterator<Item = &'a str>) -> Vec<usize> {
    let keys: Vec<&str> = keys.into_iter().collect();
    let mut capacity = 16usize;
    while keys.len() * 4 > capacity * 3 {
        capacity *= 2;
    }
    let mut order: Vec<(usize, usize)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let h = java_hash(k) as u32;
            (((h ^ (h >> 16)) as usize) & (capacity - 1), i)
        })
        .collect();
    order.sort_unstable();
    order.into_iter().map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_string_hashes_match_the_jdk() {
        assert_eq!(java_hash(""), 0);
        assert_eq!(java_hash("a"), 97);
        assert_eq!(java_hash("hello"), 99_162_322);
        // Overflow wraps as in Java.
        assert_eq!(java_hash("polygenelubricants"), i32::MIN);
    }

    #[test]
    fn recorded_orders_come_out_of_the_bucket_rule() {
        // Recorded: StateMachineArn.$, Input.$, Name.$ → Input, StateMachineArn, Name.
        let keys = ["StateMachineArn", "Input", "Name"];
        let order: Vec<&str> = java_hash_order(keys).into_iter().map(|i| keys[i]).collect();
        assert_eq!(order, ["Input", "StateMachineArn", "Name"]);
    }
}
