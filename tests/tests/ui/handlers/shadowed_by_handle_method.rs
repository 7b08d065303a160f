use supervise::{handlers, worker};

#[worker]
#[derive(Clone)]
struct Cache;

#[handlers]
impl Cache {
    #[cast]
    fn send(&mut self, value: u64) {
        let _ = value;
    }
}

fn main() {}
