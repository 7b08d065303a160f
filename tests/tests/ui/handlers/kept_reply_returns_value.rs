use supervise::{handlers, worker, Reply};

#[worker]
#[derive(Clone)]
struct Cache;

#[handlers]
impl Cache {
    #[call]
    fn wait_for(&mut self, key: String, reply: Reply<u64>) -> u64 {
        let _ = (reply, key);
        0
    }
}

fn main() {}
