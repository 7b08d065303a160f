# The conformance oracle of `supervise`.
#
# It plays a scenario (`.scn`, see ../FORMAT.md) on the real Erlang/OTP
# `supervisor` (static strategies and `simple_one_for_one`) or on Elixir's
# `DynamicSupervisor` (`strategy=dynamic`) and writes down what happened as a
# trace (`.trace`). Run it with one scheduler:
#
#     elixir --erl "+S 1" oracle.exs run   S.scn...          trace, times rounded to `step`
#     elixir --erl "+S 1" oracle.exs raw   S.scn...          trace, exact milliseconds
#     elixir --erl "+S 1" oracle.exs check S.scn [S.trace]...  replay and compare
#     elixir oracle.exs compare S.scn A.trace B.trace            compare two stored traces
#
# `check` passes on equal lines ("exact"), else on the slot-by-slot, actor by
# actor rule of FORMAT.md ("per-actor"), or, for a scenario tagged
# `async_orphans`, on equal lines per slot ("multiset"). A `.trace.alt` next
# to the trace is an accepted alternative.
#
# Every scenario is played in a BEAM of its own: when several files are given,
# or when the emulator was not started with `+S 1`, the script starts itself
# again once per file.
#
# Timing matters, since scenarios run in real time and the trace keeps the
# order in which things happened. Three choices keep runs reproducible:
#   - the clock starts 5 ms after a whole second of the monotonic clock, so
#     OTP's whole-second restart bookkeeping sees every run alike;
#   - before the clock starts, the code of crashes, reports and restarts is
#     loaded and run once (Oracle.WarmUp), and the logger is set up as on a
#     bare Erlang node, so that the first restart is as quick as the others;
#   - a `crash_after` timer is absolute, N ms after the millisecond in which
#     the start completed; BEAM's relative timers round up to the next
#     millisecond, which would add up over many restarts and break the tie
#     that `nondeterministic/80_bomb_one_for_one` is about.
#
# Structure (top to bottom):
#   Oracle.Scenario  - reads a `.scn` file
#   Oracle.Table     - the scenario's tree while it runs (ETS), incarnation counters
#   Oracle.Specs     - child specs and supervisor flags handed to OTP
#   Oracle.Start     - start functions, called by OTP inside the parent process
#   Oracle.Worker    - the scripted worker (a gen_server)
#   Oracle.Sup, Oracle.DynSup - callback modules of the supervisors
#   Oracle.Journal   - the observer: monitors every incarnation, keeps the lines
#   Oracle.Reports   - logger handler that forwards SUPERVISOR REPORTs
#   Oracle.Term      - writes terms the way traces show them
#   Oracle.WarmUp    - loads and runs the code of restarts once, before the clock starts
#   Oracle.Player    - the driver: starts root, plays the timeline
#   Oracle.Canon     - time rounding and canonical order (rules 1-3)
#   Oracle.Compare   - comparison with a stored trace (exact, then rule 4)
#   Oracle.Main      - command line

defmodule Oracle.Scenario do
  @moduledoc false
  # nodes: [{:sup | :worker, path, attrs}] in file order
  # events: [{t_ms, event}] in file order
  defstruct step: 100, tags: [], nodes: [], events: [], stop_at: nil, file: nil

  def load(file) do
    sc = file |> File.read!() |> parse()
    %{sc | file: file}
  end

  def parse(text) do
    sc =
      text
      |> String.split("\n")
      |> Enum.with_index(1)
      |> Enum.reduce(%__MODULE__{}, fn {raw, no}, sc ->
        case raw |> drop_comment() |> String.split([" ", "\t", "\r"], trim: true) do
          [] -> sc
          words -> statement(words, sc, no)
        end
      end)

    if sc.stop_at == nil, do: raise("scenario has no `end` statement")
    %{sc | nodes: Enum.reverse(sc.nodes), events: Enum.reverse(sc.events)}
  end

  defp drop_comment(line) do
    case String.split(line, "#", parts: 2) do
      [code | _] -> code
    end
  end

  defp statement(["step", n], sc, _), do: %{sc | step: String.to_integer(n)}
  defp statement(["tags" | tags], sc, _), do: %{sc | tags: sc.tags ++ tags}
  defp statement(["sup", path | kv], sc, no), do: %{sc | nodes: [{:sup, path, attrs(kv, no)} | sc.nodes]}
  defp statement(["child", path | kv], sc, no), do: %{sc | nodes: [{:worker, path, attrs(kv, no)} | sc.nodes]}
  defp statement(["end", t], sc, _), do: %{sc | stop_at: String.to_integer(t)}

  defp statement(["at", t | what], sc, no) do
    %{sc | events: [{String.to_integer(t), event(what, no)} | sc.events]}
  end

  defp statement(words, _sc, no), do: raise("line #{no}: cannot read `#{Enum.join(words, " ")}`")

  @by_path ~w(terminate_child terminate_child_id restart_child delete_child get_childspec which_children count_children)

  defp event(["crash", path, reason], _no), do: {:crash, path, String.to_atom(reason)}
  defp event(["stop_supervisor"], _no), do: {:stop_supervisor, "root"}
  defp event(["start_child", path | kv], no), do: {:api, :start_child, path, attrs(kv, no)}
  defp event([op, path], _no) when op in @by_path, do: {:api, String.to_atom(op), path, %{}}
  defp event(words, no), do: raise("line #{no}: unknown event `#{Enum.join(words, " ")}`")

  defp attrs(kvs, no) do
    Map.new(kvs, fn kv ->
      case String.split(kv, "=", parts: 2) do
        [k, v] -> {String.to_atom(k), value(v)}
        _ -> raise("line #{no}: `#{kv}` is not key=value")
      end
    end)
  end

  # "1,2" is a list, "12" an integer, anything else an atom (unvalidated).
  def value(v) do
    if String.contains?(v, ","), do: Enum.map(String.split(v, ","), &scalar/1), else: scalar(v)
  end

  defp scalar(s) do
    if Regex.match?(~r/^[+-]?[0-9]+$/, s), do: String.to_integer(s), else: String.to_atom(s)
  end

  # Paths: "root/s1/w" -> parent "root/s1", base "w".
  def parent(path) do
    case String.split(path, "/") do
      [_] -> nil
      parts -> parts |> Enum.drop(-1) |> Enum.join("/")
    end
  end

  def base(path), do: path |> String.split("/") |> List.last()

  def supervisors(sc), do: for({:sup, p, _} <- sc.nodes, do: p)

  # Supervisors whose children are dynamic (their shutdown is parallel).
  def dynamic_supervisors(sc) do
    for {:sup, p, a} <- sc.nodes, Map.get(a, :strategy) in [:simple_one_for_one, :dynamic], do: p
  end
end

defmodule Oracle.Table do
  @moduledoc false
  # The tree as the running scenario knows it. Entries:
  #   {{:node, path}, kind, attrs}      kind is :sup or :worker
  #   {{:kids, path}, [child paths]}    static children, in start order
  #   {{:tries, path}, n}               start attempts made for a path
  @tab :oracle_tree

  def create(sc) do
    :ets.new(@tab, [:named_table, :public, :set])

    for {kind, path, attrs} <- sc.nodes do
      put(path, kind, attrs)

      if up = Oracle.Scenario.parent(path) do
        :ets.insert(@tab, {{:kids, up}, kids(up) ++ [path]})
      end
    end

    :ok
  end

  def put(path, kind, attrs), do: :ets.insert(@tab, {{:node, path}, kind, attrs})

  def entry(path) do
    case :ets.lookup(@tab, {:node, path}) do
      [{_, kind, attrs}] -> {kind, attrs}
      [] -> nil
    end
  end

  def attrs(path) do
    case entry(path) do
      {_, a} -> a
      nil -> %{}
    end
  end

  def kids(path) do
    case :ets.lookup(@tab, {:kids, path}) do
      [{_, l}] -> l
      [] -> []
    end
  end

  def strategy(path) do
    case entry(path) do
      {:sup, a} -> Map.get(a, :strategy, :one_for_one)
      _ -> nil
    end
  end

  # Counts one more start attempt of `path`; returns its number (1-based).
  def next_try(path), do: :ets.update_counter(@tab, {:tries, path}, 1, {{:tries, path}, 0})
end

defmodule Oracle.Specs do
  @moduledoc false
  alias Oracle.{Scenario, Table}

  @spec_keys [:restart, :shutdown, :significant, :type, :id]

  # Only the keys written in the scenario are put in the map: OTP fills in
  # its own defaults (and validates whatever was written).
  def child(path) do
    {kind, attrs} = Table.entry(path)
    id = path |> Scenario.base() |> String.to_atom()

    base =
      case kind do
        :sup -> %{id: id, start: {Oracle.Start, :supervisor, [path]}, type: :supervisor}
        :worker -> %{id: id, start: {Oracle.Start, :worker, [path]}}
      end

    Map.merge(base, Map.take(attrs, @spec_keys))
  end

  # The template of a simple_one_for_one supervisor: the instance's name is
  # appended to the arguments by start_child(Sup, [Name]).
  def template(sup_path, tmpl_path) do
    %{child(tmpl_path) | start: {Oracle.Start, :dyn_start, [sup_path]}}
  end

  # A child of a DynamicSupervisor: extra_arguments [SupPath] come first.
  def dynamic(path, attrs) do
    name = path |> Scenario.base() |> String.to_atom()

    %{id: name, start: {Oracle.Start, :dyn_start, [name]}}
    |> Map.merge(Map.take(attrs, [:restart, :shutdown, :type]))
  end

  def flags(attrs), do: Map.take(attrs, [:strategy, :intensity, :period, :auto_shutdown])

  def dynamic_options(attrs) do
    for {key, opt} <- [intensity: :max_restarts, period: :max_seconds, max_children: :max_children],
        Map.has_key?(attrs, key),
        do: {opt, Map.fetch!(attrs, key)}
  end
end

defmodule Oracle.Start do
  @moduledoc false
  # Start functions named in the child specs. OTP calls them in the parent
  # supervisor's process (the driver's, for root), so the `started` line is
  # written by the parent, after the start returned.
  alias Oracle.{Journal, Table}

  def worker(path) do
    n = Table.next_try(path)
    result = :gen_server.start_link(Oracle.Worker, {path, n}, [])
    Journal.start_result(path, n, result)
    result
  end

  def dyn_start(sup_path, name), do: worker(sup_path <> "/" <> Atom.to_string(name))

  def supervisor(path) do
    n = Table.next_try(path)

    result =
      case Table.strategy(path) do
        :dynamic -> DynamicSupervisor.start_link(Oracle.DynSup, {path, n}, [])
        _ -> :supervisor.start_link(Oracle.Sup, {path, n})
      end

    Journal.start_result(path, n, result)
    result
  end
end

defmodule Oracle.Worker do
  @moduledoc false
  # The scripted worker; its behaviour keys are read from the tree table.
  @behaviour :gen_server
  alias Oracle.{Journal, Table}

  @impl true
  def init({path, n}) do
    attrs = Table.attrs(path)
    # stop=0: no trap, the supervisor's shutdown signal kills it at once.
    if Map.get(attrs, :stop, 0) != 0, do: Process.flag(:trap_exit, true)
    pause(Map.get(attrs, :init, 0))

    case outcome(Map.get(attrs, :start, :ok), n) do
      :ok ->
        Journal.enroll(path, n)

        case Map.get(attrs, :crash_after) do
          ms when is_integer(ms) ->
            # Measured from the millisecond in which the start completed (an
            # absolute timer): a relative timer rounds up to the next
            # millisecond, and that would add up over many restarts.
            reason = Oracle.Term.reason(Map.get(attrs, :crash_reason, :abnormal))
            deadline = :erlang.monotonic_time(:millisecond) + ms
            :erlang.send_after(deadline, self(), {:explode, reason}, abs: true)

          _ ->
            :ok
        end

        {:ok, %{attrs: attrs, on_its_own: false}}

      :error ->
        {:stop, :init_failed}

      :ignore ->
        :ignore
    end
  end

  # `start=a,b,c`: attempt n gets the n-th outcome, the last one repeats.
  defp outcome(list, n) when is_list(list), do: Enum.at(list, min(n, length(list)) - 1)
  defp outcome(single, _n), do: single

  @impl true
  def handle_call(_request, _from, state), do: {:reply, :ok, state}

  @impl true
  def handle_cast({:crash, reason}, state), do: {:stop, reason, %{state | on_its_own: true}}
  def handle_cast(_msg, state), do: {:noreply, state}

  @impl true
  def handle_info({:explode, reason}, state), do: {:stop, reason, %{state | on_its_own: true}}
  def handle_info(_msg, state), do: {:noreply, state}

  # Reached with on_its_own=false only when the worker traps exits and its
  # parent's exit signal arrived: that is the `stop` / `stop_exit` behaviour.
  @impl true
  def terminate(_reason, %{on_its_own: true}), do: :ok

  def terminate(_reason, %{attrs: attrs}) do
    pause(Map.get(attrs, :stop, 0))

    case Map.get(attrs, :stop_exit) do
      nil -> :ok
      r -> exit(Oracle.Term.reason(r))
    end
  end

  @impl true
  def code_change(_old, state, _extra), do: {:ok, state}

  defp pause(0), do: :ok
  defp pause(ms) when is_integer(ms), do: Process.sleep(ms)
  defp pause(_never), do: Process.sleep(:infinity)
end

defmodule Oracle.Sup do
  @moduledoc false
  # Callback module of every `:supervisor` of the scenario.
  alias Oracle.{Journal, Specs, Table}

  def init({path, n}) do
    # Enrolled before its children start, so a call made while it starts its
    # children reaches this incarnation.
    Journal.enroll(path, n)
    attrs = Table.attrs(path)

    specs =
      case Map.get(attrs, :strategy) do
        :simple_one_for_one -> Enum.map(Table.kids(path), &Specs.template(path, &1))
        _ -> Enum.map(Table.kids(path), &Specs.child/1)
      end

    {:ok, {Specs.flags(attrs), specs}}
  end
end

defmodule Oracle.DynSup do
  @moduledoc false
  # Callback module of every `DynamicSupervisor` of the scenario.
  alias Oracle.{Journal, Specs, Table}

  def init({path, n}) do
    Journal.enroll(path, n)
    opts = Specs.dynamic_options(Table.attrs(path))
    DynamicSupervisor.init([extra_arguments: [path]] ++ opts)
  end
end

defmodule Oracle.Journal do
  @moduledoc false
  # The observer. A single process receives everything that becomes a line,
  # stamps it with the time it arrived and keeps it. It also monitors every
  # incarnation that reached its init (supervisors) or succeeded in it
  # (workers), which gives the `exit` lines, and knows which pid is which P#N.
  #
  # An incarnation is "announced" once its `started` line is written. A
  # 'DOWN' that arrives before that is held back and written right after the
  # `started` line, or dropped when the start failed (a supervisor whose init
  # failed is not reported as exiting).
  alias Oracle.Term

  @name :oracle_journal

  def start(t0) do
    pid = spawn_link(fn -> loop(%{t0: t0, lines: [], who: %{}, latest: %{}, held: %{}}) end)
    Process.register(pid, @name)
    :ok
  end

  # Called by an incarnation from its own init.
  def enroll(path, n) do
    ref = make_ref()
    send(@name, {:enroll, self(), path, n, ref})

    receive do
      {^ref, :enrolled} -> :ok
    end
  end

  def start_result(path, n, result) do
    case result do
      {:ok, pid} -> note({:started, pid, path, n})
      {:ok, pid, _info} -> note({:started, pid, path, n})
      :ignore -> note({:ignored, path, n})
      {:error, reason} -> note({:failed, path, n, reason})
      other -> note({:failed, path, n, other})
    end
  end

  def note(what) do
    send(@name, {:note, what})
    :ok
  end

  def line(text), do: note({:line, text})

  # Latest enrolled pid of a path, or nil.
  def latest(path), do: ask({:latest, path})

  def lines, do: ask(:lines)

  defp ask(question) do
    ref = make_ref()
    send(@name, {:ask, question, self(), ref})

    receive do
      {^ref, answer} -> answer
    end
  end

  defp loop(s) do
    receive do
      {:enroll, pid, path, n, ref} ->
        Process.monitor(pid)
        send(pid, {ref, :enrolled})
        loop(%{s | who: Map.put(s.who, pid, {path, n, false}), latest: Map.put(s.latest, path, pid)})

      {:DOWN, _ref, :process, pid, reason} ->
        case Map.fetch(s.who, pid) do
          {:ok, {path, n, true}} -> loop(add(s, "exit #{path}##{n} #{show(reason, s)}"))
          {:ok, {_path, _n, false}} -> loop(%{s | held: Map.put(s.held, pid, reason)})
          :error -> loop(s)
        end

      {:note, what} ->
        loop(handle(what, s))

      {:ask, {:latest, path}, from, ref} ->
        send(from, {ref, Map.get(s.latest, path)})
        loop(s)

      {:ask, :lines, from, ref} ->
        send(from, {ref, Enum.reverse(s.lines)})
        loop(s)
    end
  end

  defp handle({:started, pid, path, n}, s) do
    s = %{s | who: Map.put(s.who, pid, {path, n, true}), latest: Map.put(s.latest, path, pid)}
    s = add(s, "started #{path}##{n}")

    case Map.pop(s.held, pid) do
      {nil, _} -> s
      {reason, held} -> add(%{s | held: held}, "exit #{path}##{n} #{show(reason, s)}")
    end
  end

  defp handle({:failed, path, n, reason}, s) do
    add(forget_held(s, path, n), "start_failed #{path}##{n} #{show(reason, s)}")
  end

  defp handle({:ignored, path, n}, s), do: add(forget_held(s, path, n), "start_ignored #{path}##{n}")

  defp handle({:line, text}, s), do: add(s, text)

  defp handle({:call, op, path, result}, s) do
    add(s, "call #{op} #{path} -> #{Term.result(op, path, result, labeller(s))}")
  end

  defp handle({:report, sup_pid, context, id, offender, count, reason}, s) do
    sup = path_of(sup_pid, s)

    who =
      case offender do
        pid when is_pid(pid) -> path_of(pid, s)
        {:restarting, pid} when is_pid(pid) -> path_of(pid, s)
        pids when is_list(pids) -> pids |> Enum.map(&path_of(&1, s)) |> Enum.sort() |> Enum.join(",")
        _ when is_integer(count) -> "#{sup}/#{show(id, s)}*#{count}"
        _ -> "#{sup}/#{show(id, s)}"
      end

    add(s, "report #{sup} #{context} #{who} #{show(reason, s)}")
  end

  defp forget_held(s, path, n) do
    held = Map.reject(s.held, fn {pid, _} -> Map.get(s.who, pid) in [{path, n, false}, {path, n, true}] end)
    %{s | held: held}
  end

  defp add(s, text) do
    at = :erlang.monotonic_time(:millisecond) - s.t0
    %{s | lines: [{at, text} | s.lines]}
  end

  defp path_of(pid, s) do
    case Map.fetch(s.who, pid) do
      {:ok, {path, _, _}} -> path
      :error -> "?"
    end
  end

  defp labeller(s) do
    fn pid ->
      case Map.fetch(s.who, pid) do
        {:ok, {path, n, _}} -> "#{path}##{n}"
        :error -> "<unknown_pid>"
      end
    end
  end

  defp show(term, s), do: Term.show(term, labeller(s))
end

defmodule Oracle.Reports do
  @moduledoc false
  # A `:logger` handler. OTP's supervisor and Elixir's DynamicSupervisor log
  # their SUPERVISOR REPORTs from their own process; this passes each one
  # (progress reports aside) to the journal.

  def log(%{msg: {:report, %{label: {:supervisor, context}, report: report}}}, _config)
      when context != :progress do
    sup_pid =
      case field(report, :supervisor) do
        {pid, _module} when is_pid(pid) -> pid
        _ -> self()
      end

    offender = field(report, :offender) || []

    Oracle.Journal.note(
      {:report, sup_pid, context, field(offender, :id), field(offender, :pid), field(offender, :nb_children),
       field(report, :reason)}
    )
  rescue
    _ -> :ok
  end

  def log(_event, _config), do: :ok

  defp field(list, key) when is_list(list) do
    case List.keyfind(list, key, 0) do
      {^key, value} -> value
      nil -> nil
    end
  end

  defp field(_, _), do: nil

  # Only this handler, and the primary configuration of a bare Erlang node
  # (level notice, no filters): Elixir's Logger lowers the level to debug
  # and adds a filter, and the supervisors would then spend time on every
  # progress report, which moves where the single scheduler switches
  # between processes.
  def install do
    for id <- :logger.get_handler_ids(), do: :logger.remove_handler(id)
    for {id, _} <- :logger.get_primary_config().filters, do: :logger.remove_primary_filter(id)
    :ok = :logger.set_primary_config(:level, :notice)
    :ok = :logger.add_handler(:oracle_reports, __MODULE__, %{level: :all})
  end
end

defmodule Oracle.Term do
  @moduledoc false
  # Terms as traces write them: Erlang syntax, no quotes on atoms, pids as
  # P#N, the child record of an error as `childrec`, maps with sorted keys.

  def reason(:shutdown_tuple), do: {:shutdown, :tuple}
  def reason(r), do: r

  # The recorded traces name the module of the start functions `oracle`
  # (it shows in `{bad_start_spec,...}`).
  def show(Oracle.Start, _label), do: "oracle"
  def show(t, label) when is_pid(t), do: label.(t)
  def show(t, _label) when is_atom(t), do: Atom.to_string(t)
  def show(t, _label) when is_integer(t), do: Integer.to_string(t)

  def show(t, _label) when is_tuple(t) and tuple_size(t) == 9 and elem(t, 0) == :child, do: "childrec"
  def show(t, label) when is_tuple(t), do: "{" <> join(Tuple.to_list(t), label) <> "}"
  def show([], _label), do: "[]"

  def show(t, label) when is_list(t) do
    if :io_lib.printable_list(t), do: "\"" <> List.to_string(t) <> "\"", else: "[" <> join(t, label) <> "]"
  end

  def show(t, label) when is_map(t) do
    inner = t |> Map.to_list() |> Enum.sort() |> Enum.map_join(",", fn {k, v} -> show(k, label) <> "=>" <> show(v, label) end)
    "#" <> "{" <> inner <> "}"
  end

  def show(t, _label) when is_binary(t) do
    if String.printable?(t), do: "\"" <> t <> "\"", else: raw(t)
  end

  def show(t, _label), do: raw(t)

  defp raw(t), do: :io_lib.format(~c"~w", [t]) |> IO.chardata_to_string()

  # Proper lists only (an improper tail is written after `|`).
  defp join(list, label), do: join(list, label, [])
  defp join([], _label, acc), do: acc |> Enum.reverse() |> Enum.join(",")
  defp join([h | t], label, acc), do: join(t, label, [show(h, label) | acc])
  defp join(tail, label, acc), do: join([], label, acc) <> "|" <> show(tail, label)

  # An API call's result, with the canonical forms of FORMAT.md.
  def result(:which_children, path, list, label) when is_list(list) do
    items = for {id, child, type, _mods} <- list, do: show({id, child, type}, label)

    items =
      if Oracle.Table.strategy(path) in [:simple_one_for_one, :dynamic], do: Enum.sort(items), else: items

    "[" <> Enum.join(items, ",") <> "]"
  end

  def result(:count_children, _path, counts, label) when is_map(counts) do
    show(for(k <- [:specs, :active, :supervisors, :workers], do: {k, Map.get(counts, k)}), label)
  end

  def result(:get_childspec, _path, {:ok, spec}, label) when is_map(spec) do
    show({:ok, Map.drop(spec, [:start, :modules])}, label)
  end

  def result(_op, _path, result, label), do: show(result, label)
end

defmodule Oracle.WarmUp do
  @moduledoc false
  # Before the clock starts: the code the timeline needs is loaded, and two
  # restart cycles are run on a throwaway `:supervisor` and on a throwaway
  # `DynamicSupervisor`, so that crash handling, reports and restarts have
  # all run once. Otherwise the first restart of a scenario is slower than
  # the next ones, by a good part of a millisecond.

  def run do
    load_code()

    {:ok, sup} = :supervisor.start_link(__MODULE__, :sup)
    twice(fn -> restart_cycle(sup, &which/1) end)
    stop(sup)

    {:ok, dyn} = DynamicSupervisor.start_link(__MODULE__, :dyn, [])
    {:ok, _} = DynamicSupervisor.start_child(dyn, %{id: :w, start: {__MODULE__, :start_worker, []}})
    twice(fn -> restart_cycle(dyn, &which/1) end)
    stop(dyn)
    :ok
  end

  defp twice(f) do
    f.()
    f.()
  end

  defp restart_cycle(sup, which) do
    old = which.(sup)
    :gen_server.cast(old, :crash)
    wait_for(fn -> (new = which.(sup)) != old and is_pid(new) end)
  end

  defp which(sup) do
    case :supervisor.which_children(sup) do
      [{_, pid, _, _} | _] -> pid
      _ -> nil
    end
  end

  defp wait_for(done?) do
    if not done?.() do
      Process.sleep(1)
      wait_for(done?)
    end
  end

  defp stop(sup) do
    ref = Process.monitor(sup)
    Process.exit(sup, :shutdown)

    receive do
      {:DOWN, ^ref, _, _, _} -> :ok
    end

    receive do
      {:EXIT, ^sup, _} -> :ok
    after
      0 -> :ok
    end
  end

  # Load the code the timeline will need now rather than in the middle of it.
  defp load_code do
    for m <- [
          :supervisor,
          :gen_server,
          :gen,
          :proc_lib,
          :sys,
          :timer,
          :logger_backend,
          :logger_config,
          DynamicSupervisor,
          Supervisor,
          GenServer,
          Map,
          Keyword,
          Access,
          Enum,
          Process
        ],
        do: Code.ensure_loaded(m)

    # Protocols are not consolidated in a script: the first use of an
    # implementation (interpolating an atom, say) would look it up on disk.
    for proto <- [String.Chars, List.Chars, Enumerable, Collectable, Inspect],
        impl <- Protocol.extract_impls(proto, :code.get_path()),
        do: Code.ensure_loaded(Module.concat(proto, impl))

    :ok
  end

  def start_worker, do: :gen_server.start_link(__MODULE__, :worker, [])

  def init(:sup), do: {:ok, {%{intensity: 10}, [%{id: :w, start: {__MODULE__, :start_worker, []}}]}}
  def init(:dyn), do: DynamicSupervisor.init(max_restarts: 10)
  def init(:worker), do: {:ok, nil}

  def handle_cast(:crash, s), do: {:stop, :abnormal, s}
  def handle_call(_, _, s), do: {:reply, :ok, s}
  def handle_info(_, s), do: {:noreply, s}
end

defmodule Oracle.Player do
  @moduledoc false
  # The driver: the parent of root. It plays the timeline; an API call goes
  # out from a client process of its own, so the timeline never waits.
  alias Oracle.{Journal, Scenario, Specs, Table, Term}

  # Started this many ms after a whole second of the monotonic clock, so that
  # OTP's whole-second restart bookkeeping sees scenario time t in second
  # floor(t/1000) in every run. ORACLE_ALIGN_MS (0..999) moves the start
  # within the second: the fuzzing corpus (../fuzz) keeps only scenarios
  # whose trace is the same at 5, 305, 505 and 905 ms.
  @after_second_ms 5

  def after_second_ms do
    case System.get_env("ORACLE_ALIGN_MS") do
      nil ->
        @after_second_ms

      text ->
        case Integer.parse(text) do
          {ms, ""} when ms in 0..999 -> ms
          _ -> raise "ORACLE_ALIGN_MS must be an integer in 0..999, got #{inspect(text)}"
        end
    end
  end

  def play(sc) do
    Process.flag(:trap_exit, true)
    Oracle.Reports.install()
    Oracle.WarmUp.run()
    t0 = align()
    Journal.start(t0)

    try do
      Oracle.Start.supervisor("root")
    catch
      _, _ -> :failed
    end

    for {t, event} <- sc.events do
      sleep_until(t0 + t)
      perform(event)
    end

    sleep_until(t0 + sc.stop_at)
    Journal.lines()
  end

  defp align do
    now = :erlang.monotonic_time(:millisecond)
    Process.sleep(Integer.mod(after_second_ms() - Integer.mod(now, 1000), 1000))
    :erlang.monotonic_time(:millisecond)
  end

  defp sleep_until(deadline) do
    left = deadline - :erlang.monotonic_time(:millisecond)
    if left > 0, do: Process.sleep(left)
  end

  defp perform({:crash, path, reason}) do
    # The line first: it is in the trace before anything the crash causes.
    Journal.line("inject crash #{path} #{reason}")
    pid = Journal.latest(path)

    if is_pid(pid) and Process.alive?(pid) do
      crash(path, pid, reason)
    else
      Journal.line("inject_note not_running")
    end
  end

  defp perform({:stop_supervisor, path}) do
    Journal.line("inject stop_supervisor #{path}")
    pid = Journal.latest(path)
    if is_pid(pid), do: Process.exit(pid, :shutdown)
  end

  defp perform({:api, :start_child, path, attrs}) do
    sup = Scenario.parent(path)
    sup_pid = Journal.latest(sup)
    name = path |> Scenario.base() |> String.to_atom()

    case Table.strategy(sup) do
      :simple_one_for_one ->
        [template] = Table.kids(sup)
        Table.put(path, :worker, Map.merge(Table.attrs(template), attrs))
        client(:start_child, path, fn -> :supervisor.start_child(sup_pid, [name]) end)

      :dynamic ->
        Table.put(path, :worker, attrs)
        spec = Specs.dynamic(path, attrs)
        client(:start_child, path, fn -> DynamicSupervisor.start_child(sup_pid, spec) end)

      _ ->
        Table.put(path, :worker, attrs)
        spec = Specs.child(path)
        client(:start_child, path, fn -> :supervisor.start_child(sup_pid, spec) end)
    end
  end

  defp perform({:api, :terminate_child, path, _}) do
    sup = Scenario.parent(path)
    sup_pid = Journal.latest(sup)

    case Table.strategy(sup) do
      :simple_one_for_one ->
        pid = Journal.latest(path)
        client(:terminate_child, path, fn -> :supervisor.terminate_child(sup_pid, pid) end)

      :dynamic ->
        pid = Journal.latest(path)
        client(:terminate_child, path, fn -> DynamicSupervisor.terminate_child(sup_pid, pid) end)

      _ ->
        by_id(:terminate_child, path, sup_pid)
    end
  end

  defp perform({:api, :terminate_child_id, path, _}) do
    by_id(:terminate_child, path, Journal.latest(Scenario.parent(path)))
  end

  defp perform({:api, op, path, _}) when op in [:restart_child, :delete_child, :get_childspec] do
    by_id(op, path, Journal.latest(Scenario.parent(path)))
  end

  defp perform({:api, op, path, _}) when op in [:which_children, :count_children] do
    sup_pid = Journal.latest(path)
    client(op, path, fn -> apply(:supervisor, op, [sup_pid]) end)
  end

  defp by_id(op, path, sup_pid) do
    id = path |> Scenario.base() |> String.to_atom()
    client(op, path, fn -> apply(:supervisor, op, [sup_pid, id]) end)
  end

  defp crash(_path, pid, :kill), do: Process.exit(pid, :kill)

  defp crash(path, pid, reason) do
    case Table.entry(path) do
      {:sup, _} ->
        # A supervisor cannot be asked to crash: make it terminate with the reason.
        spawn(fn ->
          try do
            :sys.terminate(pid, Term.reason(reason), :infinity)
          catch
            _, _ -> :ok
          end
        end)

      _ ->
        :gen_server.cast(pid, {:crash, Term.reason(reason)})
    end
  end

  defp client(op, path, call) do
    spawn(fn ->
      result =
        try do
          call.()
        catch
          :exit, {reason, _where} -> {:exit, reason}
          kind, reason -> {kind, reason}
        end

      Journal.note({:call, op, path, result})
    end)

    :ok
  end
end

defmodule Oracle.Canon do
  @moduledoc false
  # Rules 1-3 of FORMAT.md (rule 3 is applied when a result is written).

  def rounded(lines, step), do: for({ms, text} <- lines, do: {Integer.floor_div(ms + div(step, 2), step) * step, text})

  # Rule 2: a maximal run of same-time `exit` lines of dynamic children of one
  # simple_one_for_one/dynamic supervisor is sorted.
  def sort_parallel_exits(lines, dyn_sups) do
    lines
    |> Enum.chunk_while(
      nil,
      fn {t, text} = line, acc ->
        key = {t, exit_group(text, dyn_sups)}

        case acc do
          {^key, run} when elem(key, 1) != nil -> {:cont, {key, [line | run]}}
          nil -> {:cont, {key, [line]}}
          {_, run} -> {:cont, Enum.reverse(run), {key, [line]}}
        end
      end,
      fn
        nil -> {:cont, nil}
        {_, run} -> {:cont, Enum.reverse(run), nil}
      end
    )
    |> Enum.flat_map(fn run -> if length(run) > 1, do: Enum.sort(run), else: run end)
  end

  # The dynamic supervisor an `exit` line's process belongs to, or nil.
  def exit_group("exit " <> rest, dyn_sups) do
    [label | _] = String.split(rest, " ", parts: 2)
    [path | _] = String.split(label, "#", parts: 2)
    up = Oracle.Scenario.parent(path)
    if up in dyn_sups, do: up, else: nil
  end

  def exit_group(_text, _dyn_sups), do: nil

  def text(lines), do: for({t, text} <- lines, do: "#{t} #{text}")
end

defmodule Oracle.Compare do
  @moduledoc false
  # Is a replayed trace the stored one? Exactly equal lines pass at once.
  # Otherwise, per time slot (FORMAT.md, rule 4): the same lines as a
  # multiset, and for every actor the same order of its lines (rule 2 applied
  # within a dynamic supervisor's own sequence). `async_orphans` scenarios
  # may fall back to the multiset alone.
  alias Oracle.{Canon, Scenario}

  # want, got: canonical lines "T text". Returns {:ok, how} | {:error, problems}.
  def compare(want, got, sc) do
    if want == got do
      {:ok, "exact"}
    else
      case problems(want, got, sc, :per_actor) do
        [] ->
          {:ok, "per-actor"}

        found ->
          if "async_orphans" in sc.tags and problems(want, got, sc, :multiset) == [] do
            {:ok, "multiset"}
          else
            {:error, found}
          end
      end
    end
  end

  defp problems(want, got, sc, level) do
    w = slots(want)
    g = slots(got)
    times = (Map.keys(w) ++ Map.keys(g)) |> Enum.uniq() |> Enum.sort()

    Enum.flat_map(times, fn t ->
      wl = Map.get(w, t, [])
      gl = Map.get(g, t, [])
      missing = multiset_minus(wl, gl)
      extra = multiset_minus(gl, wl)

      cond do
        missing != [] or extra != [] -> [{:lines, t, missing, extra}]
        level == :multiset -> []
        true -> order_problems(t, wl, gl, sc)
      end
    end)
  end

  defp slots(lines) do
    lines
    |> Enum.map(fn line ->
      [t, text] = String.split(line, " ", parts: 2)
      {String.to_integer(t), text}
    end)
    |> Enum.group_by(fn {t, _} -> t end, fn {_, text} -> text end)
  end

  defp multiset_minus(a, b) do
    left = Enum.frequencies(b)

    {out, _} =
      Enum.reduce(a, {[], left}, fn x, {out, left} ->
        case Map.get(left, x, 0) do
          0 -> {[x | out], left}
          k -> {out, Map.put(left, x, k - 1)}
        end
      end)

    Enum.reverse(out)
  end

  defp order_problems(t, want, got, sc) do
    ws = sequences(want, sc)
    gs = sequences(got, sc)

    (Map.keys(ws) ++ Map.keys(gs))
    |> Enum.uniq()
    |> Enum.sort()
    |> Enum.flat_map(fn actor ->
      a = Map.get(ws, actor, [])
      b = Map.get(gs, actor, [])
      if a == b, do: [], else: [{:order, t, actor, a, b}]
    end)
  end

  # actor => its lines of the slot, in order (rule 2 applied for the
  # sequence of a dynamic supervisor).
  def sequences(slot, sc) do
    sups = Scenario.supervisors(sc)
    dyn = Scenario.dynamic_supervisors(sc)

    slot
    |> Enum.reduce(%{}, fn text, acc ->
      Enum.reduce(actors(text, slot, sups), acc, fn actor, acc ->
        Map.update(acc, actor, [text], &[text | &1])
      end)
    end)
    |> Map.new(fn {actor, rev} ->
      seq = Enum.reverse(rev)

      seq =
        case actor do
          {:sup, s} -> if s in dyn, do: sort_runs_of_children(seq, s), else: seq
          _ -> seq
        end

      {actor, seq}
    end)
  end

  defp sort_runs_of_children(seq, sup) do
    seq
    |> Enum.map(&{0, &1})
    |> Canon.sort_parallel_exits([sup])
    |> Enum.map(fn {_, text} -> text end)
  end

  # The actors of a line (FORMAT.md, "Same-slot interleaving"). Lines whose
  # only actor owns nothing else in the slot (a call's client, a dying
  # incarnation) get no sequence: only the multiset constrains them.
  def actors(text, slot, sups) do
    case String.split(text, " ", parts: 3) do
      [kind, label | _] when kind in ["started", "start_failed", "start_ignored"] ->
        # Ordered in the parent's lines and in its start sequence; a
        # supervisor's own start line closes its start sequence (its
        # children's starts), but races with its other lines, which it
        # writes while its parent logs its start (FORMAT.md).
        path = path_of(label)
        own_starts = if path in sups, do: [{:starts, path}], else: []
        [parent_actor(path), {:starts, Scenario.parent(path) || "driver"} | own_starts]

      ["report", sup | _] ->
        [{:sup, sup}]

      ["exit", label, reason] ->
        path = path_of(label)
        up = Scenario.parent(path)
        parent_exits = up != nil and Enum.any?(slot, &String.starts_with?(&1, "exit #{up}#"))
        injected = Enum.any?(slot, &String.starts_with?(&1, "inject crash #{path} "))

        if parent_exits or (reason in ["shutdown", "killed"] and not injected) do
          [parent_actor(path) | own_actor(path, sups)]
        else
          own_actor(path, sups)
        end

      ["inject" | _] ->
        [:driver]

      ["inject_note" | _] ->
        [:driver]

      _ ->
        []
    end
  end

  defp path_of(label), do: label |> String.split("#", parts: 2) |> hd()

  defp parent_actor(path) do
    case Scenario.parent(path) do
      nil -> :driver
      up -> {:sup, up}
    end
  end

  defp own_actor(path, sups), do: if(path in sups, do: [{:sup, path}], else: [])

  def describe({:lines, t, missing, extra}) do
    ["  at #{t} ms, the lines differ:"] ++
      Enum.map(missing, &"    - #{t} #{&1}") ++ Enum.map(extra, &"    + #{t} #{&1}")
  end

  def describe({:order, t, actor, want, got}) do
    ["  at #{t} ms, #{actor_name(actor)} has its lines in another order:", "    expected:"] ++
      Enum.map(want, &"      #{&1}") ++ ["    produced:"] ++ Enum.map(got, &"      #{&1}")
  end

  defp actor_name(:driver), do: "the driver"
  defp actor_name({:sup, s}), do: "supervisor #{s}"
  defp actor_name({:starts, s}), do: "the start sequence of #{s}"
end

defmodule Oracle.Main do
  @moduledoc false
  alias Oracle.{Canon, Compare, Scenario}

  @usage """
  usage: elixir --erl "+S 1" oracle.exs run     S.scn...
         elixir --erl "+S 1" oracle.exs raw     S.scn...
         elixir --erl "+S 1" oracle.exs check   S.scn [S.trace] ...
         elixir oracle.exs compare S.scn EXPECTED.trace OTHER.trace
  """

  def main(argv) do
    case parse_args(argv) do
      {:ok, "compare", [{scn, {want, got}}]} ->
        System.halt(compare_files(scn, want, got))

      {:ok, mode, jobs} ->
        cond do
          :erlang.system_info(:schedulers) != 1 or length(jobs) > 1 -> System.halt(relaunch(mode, jobs))
          true -> System.halt(one(mode, hd(jobs)))
        end

      :error ->
        IO.write(:stderr, @usage)
        System.halt(2)
    end
  end

  # jobs: [{scn, trace_or_nil}]
  defp parse_args(["compare", scn, want, got]), do: {:ok, "compare", [{scn, {want, got}}]}

  defp parse_args([mode | files]) when mode in ["run", "raw", "check"] and files != [] do
    jobs =
      Enum.reduce(files, [], fn f, acc ->
        cond do
          String.ends_with?(f, ".scn") -> [{f, nil} | acc]
          mode == "check" and match?([{_, nil} | _], acc) -> [{elem(hd(acc), 0), f} | tl(acc)]
          true -> throw(:bad)
        end
      end)

    {:ok, mode, Enum.reverse(jobs)}
  catch
    :bad -> :error
  end

  defp parse_args(_), do: :error

  # Each scenario gets a fresh BEAM with one scheduler.
  defp relaunch(mode, jobs) do
    elixir = System.find_executable("elixir") || "elixir"
    me = Path.expand(__ENV__.file)

    Enum.reduce(jobs, 0, fn {scn, trace}, worst ->
      if mode != "check" and length(jobs) > 1, do: IO.puts("# #{scn}")
      args = ["--erl", "+S 1", me, mode, scn] ++ if(trace, do: [trace], else: [])
      {_, status} = System.cmd(elixir, args, into: IO.stream(:stdio, :line))
      max(worst, status)
    end)
  end

  defp one(mode, {scn, trace}) do
    sc = Scenario.load(scn)

    case mode do
      "run" -> print(replay(sc, :rounded))
      "raw" -> print(replay(sc, :raw))
      "check" -> check(sc, trace || String.replace_suffix(scn, ".scn", ".trace"))
    end
  rescue
    e in [File.Error, RuntimeError, ArgumentError] ->
      IO.puts(:stderr, "oracle: #{scn}: #{Exception.message(e)}")
      if mode == "check", do: IO.puts("FAIL #{scn}")
      2
  end

  # Two stored traces of one scenario, compared as `check` does (nothing runs).
  defp compare_files(scn, want_file, got_file) do
    sc = Scenario.load(scn)
    want = read_trace(want_file)
    got = read_trace(got_file)

    case Compare.compare(want, got, sc) do
      {:ok, how} ->
        IO.puts("ok #{got_file} (#{how})")
        0

      {:error, problems} ->
        IO.puts("FAIL #{got_file} against #{want_file}")
        Enum.each(problems, fn p -> Enum.each(Compare.describe(p), &IO.puts/1) end)
        1
    end
  end

  defp read_trace(file), do: file |> File.read!() |> String.split("\n", trim: true)

  defp print(lines) do
    Enum.each(lines, &IO.puts/1)
    0
  end

  defp check(sc, trace_file) do
    expected =
      [trace_file, trace_file <> ".alt"]
      |> Enum.filter(&File.exists?/1)
      |> Enum.map(fn f -> {f, read_trace(f)} end)

    if expected == [] do
      IO.puts("FAIL #{sc.file}: no trace #{trace_file}")
      2
    else
      got = replay(sc, :rounded)
      verdicts = Enum.map(expected, fn {f, want} -> {f, Compare.compare(want, got, sc)} end)

      case Enum.find(verdicts, fn {_, v} -> match?({:ok, _}, v) end) do
        {f, {:ok, how}} ->
          alt = if f == trace_file, do: "", else: " [matches #{Path.basename(f)}]"
          IO.puts("ok #{sc.file} (#{how})#{alt}")
          0

        nil ->
          IO.puts("FAIL #{sc.file}")

          for {f, {:error, problems}} <- verdicts do
            IO.puts("  against #{f}:")
            Enum.each(problems, fn p -> Enum.each(Compare.describe(p), &IO.puts("  " <> &1)) end)
          end

          IO.puts("  produced trace:")
          Enum.each(got, &IO.puts("    " <> &1))
          1
      end
    end
  end

  # Plays the scenario in a driver process and returns canonical lines.
  def replay(sc, timing) do
    Oracle.Table.create(sc)
    {pid, ref} = spawn_monitor(fn -> exit({:played, Oracle.Player.play(sc)}) end)

    lines =
      receive do
        {:DOWN, ^ref, :process, ^pid, {:played, lines}} -> lines
        {:DOWN, ^ref, :process, ^pid, other} -> raise "the driver failed: #{inspect(other)}"
      end

    dyn = Scenario.dynamic_supervisors(sc)

    # ORACLE_RAW_FILE: a `run` (or `check`) also writes the exact
    # milliseconds of the same run to that file, as `raw` prints them.
    case System.get_env("ORACLE_RAW_FILE") do
      file when timing == :rounded and is_binary(file) and file != "" ->
        raw = lines |> Canon.sort_parallel_exits(dyn) |> Canon.text()
        File.write!(file, Enum.map(raw, &[&1, "\n"]))

      _ ->
        :ok
    end

    lines = if timing == :rounded, do: Canon.rounded(lines, sc.step), else: lines
    lines |> Canon.sort_parallel_exits(dyn) |> Canon.text()
  end
end

Oracle.Main.main(System.argv())
