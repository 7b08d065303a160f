use supervise::{handlers, worker, Reply};

#[worker]
#[derive(Clone)]
struct Cache;

#[handlers]
impl Cache {
    #[call]
    fn wait_for(&mut self, reply: Reply<u64>, key: String) {
        let _ = (reply, key);
    }
}

fn main() {}
