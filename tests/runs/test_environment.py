"""The platform record: the CPU's model and the instruction set XLA compiles for."""

from gan_jax.runs import environment

X86 = {"model name": "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz", "cpu family": "6",
       "model": "106", "flags": "fpu sse4_2 avx avx2 fma avx512f avx512dq avx512_vnni"}
ARM = {"CPU part": "0xd0c", "Features": "fp asimd evtstrm aes sve"}


def test_the_newest_instruction_set_is_read_from_the_cpu_flags():
    assert environment.cpu_isa(X86, xla_flags="") == "AVX512_VNNI"
    assert environment.cpu_isa({**X86, "flags": "sse4_2 avx avx2 fma"}, "") == "AVX2"
    assert environment.cpu_isa(ARM, xla_flags="") == "SVE"
    assert environment.cpu_isa({}, xla_flags="") == "unknown"


def test_xla_max_isa_caps_the_recorded_instruction_set():
    assert environment.cpu_isa(X86, "--xla_cpu_max_isa=AVX2") == "AVX2"
    assert environment.cpu_isa(X86, "--foo --xla_cpu_max_isa=avx512") == "AVX512"
    # A cap above what the CPU has changes nothing.
    assert environment.cpu_isa({**X86, "flags": "avx avx2"}, "--xla_cpu_max_isa=AMX") == "AVX2"


def test_cpu_model_names_family_and_model():
    assert environment.cpu_model(X86) == ("Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz "
                                          "(family 6, model 106)")
    assert environment.cpu_model({"model name": "AMD EPYC"}) == "AMD EPYC"


def test_cpuinfo_is_read_from_the_first_processor(tmp_path):
    path = tmp_path / "cpuinfo"
    path.write_text("processor\t: 0\nmodel name\t: First\nflags\t\t: avx2\n\n"
                    "processor\t: 1\nmodel name\t: Second\nflags\t\t: avx512f\n")
    info = environment._cpuinfo(str(path))
    assert info["model name"] == "First" and environment.cpu_isa(info, "") == "AVX2"
    assert environment._cpuinfo(str(tmp_path / "missing")) == {}


def test_a_run_records_cpu_model_and_isa(tmp_path):
    environment.record(str(tmp_path))
    (session,) = environment.read(str(tmp_path))
    assert session["cpu_model"] and session["cpu_isa"] == environment.current()["cpu_isa"]
    assert environment.differences([session], environment.current()) == []
    changed = environment.differences([{**session, "cpu_isa": "SSE4_2"}], session)
    assert changed == [f"cpu_isa: SSE4_2 -> {session['cpu_isa']}"]
