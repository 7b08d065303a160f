// `#[child(factory = ...)]` with a function, a path to an associated
// function and a closure; the field's type need not be `Clone`.
use supervise::{worker, Supervisor};

#[worker]
struct Conn {
    url: String,
}

impl Conn {
    fn open() -> Conn {
        Conn {
            url: "db://".to_owned(),
        }
    }
}

impl supervise::Worker for Conn {
    type Message = ();
    async fn run(self, _ctx: supervise::Context) -> Result<(), supervise::Exit> {
        let _ = self.url;
        Ok(())
    }
}

fn reconnect() -> Conn {
    Conn::open()
}

#[derive(Supervisor)]
struct App {
    #[child(factory = reconnect)]
    a: Conn,
    #[child(factory = Conn::open)]
    b: Conn,
    #[child(factory = || Conn { url: "other://".to_owned() })]
    c: Conn,
}

fn main() {
    let _ = App {
        a: Conn::open(),
        b: Conn::open(),
        c: Conn::open(),
    }
    .spec();
}
