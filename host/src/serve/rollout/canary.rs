//! Which arm a call lands in: a stable hash, so the same caller (or the
//! same request id) always lands in the same arm for a given candidate.

use sha2::{Digest, Sha256};

use super::config::{Canary, CanaryKey};

/// The buckets a share is counted in: hundredths of a percent.
const BUCKETS: u64 = 10_000;

/// Whether a call by `caller` with `request_id` is served by `canary`.
///
/// The bucket is SHA-256 of the candidate's name and the key (the caller's
/// name or the request id), its first eight bytes mod 10,000; the call is
/// the canary's when the bucket is below the share. So:
/// - it is the same on every host and after every restart (no state, no
///   seed), so a fleet splits a caller's traffic the same way;
/// - raising the share only moves calls from live to canary (a caller in
///   the canary at 10 % is still in it at 20 %), lowering it only back;
/// - the candidate's name is in the hash, so two canaries on one server
///   do not pick the same callers.
pub(super) fn lands(canary: &Canary, caller: &str, request_id: &str) -> bool {
    let key = match canary.by {
        CanaryKey::Caller => caller,
        CanaryKey::RequestId => request_id,
    };
    bucket(&canary.policy, key) < u64::from(canary.basis_points)
}

fn bucket(policy: &str, key: &str) -> u64 {
    let mut h = Sha256::new();
    // Length-prefixed, so no two (policy, key) pairs hash the same bytes.
    h.update((policy.len() as u64).to_le_bytes());
    h.update(policy.as_bytes());
    h.update(key.as_bytes());
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) % BUCKETS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canary(percent: f64, by: CanaryKey) -> Canary {
        Canary {
            policy: "candidate".into(),
            basis_points: (percent * 100.0).round() as u32,
            by,
        }
    }

    #[test]
    fn none_at_zero_all_at_a_hundred() {
        for i in 0..1000 {
            let caller = format!("caller-{i}");
            assert!(!lands(&canary(0.0, CanaryKey::Caller), &caller, "r"));
            assert!(lands(&canary(100.0, CanaryKey::Caller), &caller, "r"));
        }
    }

    #[test]
    fn a_caller_keeps_its_arm_and_raising_the_share_only_adds_callers() {
        let (ten, twenty) = (
            canary(10.0, CanaryKey::Caller),
            canary(20.0, CanaryKey::Caller),
        );
        let mut at_ten = 0;
        for i in 0..10_000 {
            let caller = format!("caller-{i}");
            let first = lands(&ten, &caller, &format!("a-{i}"));
            // Another request id, the same caller: the same arm.
            assert_eq!(first, lands(&ten, &caller, &format!("b-{i}")));
            if first {
                at_ten += 1;
                assert!(lands(&twenty, &caller, "x"), "{caller} left the canary");
            }
        }
        // 10 % of 10,000 callers, within a generous margin.
        assert!((800..1200).contains(&at_ten), "{at_ten}");
    }

    #[test]
    fn by_request_id_the_caller_does_not_matter() {
        let c = canary(50.0, CanaryKey::RequestId);
        let landed = (0..2000)
            .filter(|i| lands(&c, "anonymous", &format!("req-{i}")))
            .count();
        assert!((850..1150).contains(&landed), "{landed}");
        assert_eq!(lands(&c, "a", "req-7"), lands(&c, "b", "req-7"));
    }
}
