"""The seccomp filter every sandboxed process runs under, as classic BPF that bwrap loads.

bubblewrap ships no filter of its own (``--seccomp FD`` loads whatever program it is given),
so this module assembles one: a deny list of the system calls a learner's Celery code never
needs and that widen the kernel's attack surface (ptrace, mount, bpf, perf_event_open, kexec,
module loading, keyrings, new namespaces, io_uring), and ``socket()`` for any family but
AF_UNIX, so even a loopback TCP connection is refused before the network namespace is asked.
A denied call fails with an errno (the program sees a clear OSError); a call made under a
foreign architecture or the x32 ABI (which would dodge the numbers below) kills the process.
"""

from __future__ import annotations

import errno
import platform
import struct
from dataclasses import dataclass

# <linux/audit.h>: AUDIT_ARCH_X86_64 = EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE.
AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000

# <linux/seccomp.h> return actions.
RET_KILL_PROCESS = 0x80000000
RET_ERRNO = 0x00050000
RET_ALLOW = 0x7FFF0000

# <linux/filter.h> opcodes (classic BPF).
LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
JGE_K = 0x35  # BPF_JMP | BPF_JGE | BPF_K
JSET_K = 0x45  # BPF_JMP | BPF_JSET | BPF_K
RET_K = 0x06  # BPF_RET | BPF_K

# struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6].
OFF_NR, OFF_ARCH, OFF_ARG0_LOW = 0, 4, 16

AF_UNIX = 1
# Every CLONE_NEW* flag: clone() may make threads and processes, never namespaces.
CLONE_NEW_ANY = (
    0x00020000  # CLONE_NEWNS
    | 0x02000000  # CLONE_NEWCGROUP
    | 0x04000000  # CLONE_NEWUTS
    | 0x08000000  # CLONE_NEWIPC
    | 0x10000000  # CLONE_NEWUSER
    | 0x20000000  # CLONE_NEWPID
    | 0x40000000  # CLONE_NEWNET
    | 0x00000080  # CLONE_NEWTIME
)

# x86_64 numbers (arch/x86/entry/syscalls/syscall_64.tbl).
X86_64 = {
    "socket": 41,
    "clone": 56,
    "ptrace": 101,
    "syslog": 103,
    "pivot_root": 155,
    "chroot": 161,
    "acct": 163,
    "mount": 165,
    "umount2": 166,
    "swapon": 167,
    "swapoff": 168,
    "reboot": 169,
    "init_module": 175,
    "delete_module": 176,
    "quotactl": 179,
    "lookup_dcookie": 212,
    "kexec_load": 246,
    "add_key": 248,
    "request_key": 249,
    "keyctl": 250,
    "unshare": 272,
    "perf_event_open": 298,
    "name_to_handle_at": 303,
    "open_by_handle_at": 304,
    "setns": 308,
    "process_vm_readv": 310,
    "process_vm_writev": 311,
    "finit_module": 313,
    "kexec_file_load": 320,
    "bpf": 321,
    "userfaultfd": 323,
    "io_uring_setup": 425,
    "io_uring_enter": 426,
    "io_uring_register": 427,
    "open_tree": 428,
    "move_mount": 429,
    "fsopen": 430,
    "fsconfig": 431,
    "fsmount": 432,
    "fspick": 433,
    "clone3": 435,
    "mount_setattr": 442,
}

DENIED = tuple(name for name in X86_64 if name not in ("socket", "clone", "clone3"))


class UnsupportedArch(RuntimeError):
    """The filter only knows x86_64 system call numbers."""


@dataclass
class _Insn:
    code: int
    k: int
    jt: str | int = 0  # a label, or a relative offset
    jf: str | int = 0


def _assemble(program: list[_Insn | str]) -> bytes:
    """Resolve labels (strings in ``program``) to forward offsets and pack sock_filter structs."""
    labels, insns = {}, []
    for item in program:
        if isinstance(item, str):
            labels[item] = len(insns)
        else:
            insns.append(item)

    def offset(target, at: int) -> int:
        if isinstance(target, int):
            return target
        jump = labels[target] - at - 1
        if not 0 <= jump <= 255:
            raise ValueError(f"jump to {target} out of range ({jump})")
        return jump

    return b"".join(
        struct.pack("<HBBI", i.code, offset(i.jt, n), offset(i.jf, n), i.k)
        for n, i in enumerate(insns)
    )


def build_filter(machine: str | None = None) -> bytes:
    """Return the filter as bytes of ``struct sock_filter`` for ``bwrap --seccomp``."""
    machine = machine or platform.machine()
    if machine != "x86_64":
        raise UnsupportedArch(f"the playground's seccomp filter supports x86_64, not {machine}")
    nr = X86_64
    program: list[_Insn | str] = [
        _Insn(LD_W_ABS, OFF_ARCH),
        _Insn(JEQ_K, AUDIT_ARCH_X86_64, jt=0, jf="kill"),
        _Insn(LD_W_ABS, OFF_NR),
        _Insn(JGE_K, X32_SYSCALL_BIT, jt="kill", jf=0),
        *[_Insn(JEQ_K, nr[name], jt="eperm") for name in DENIED],
        _Insn(JEQ_K, nr["socket"], jt="socket"),
        _Insn(JEQ_K, nr["clone"], jt="clone"),
        # clone3 passes its flags in memory a filter cannot read: ENOSYS makes glibc fall back
        # to clone(), whose flags are checked below (what Docker's default profile does).
        _Insn(JEQ_K, nr["clone3"], jt="enosys"),
        _Insn(RET_K, RET_ALLOW),
        "socket",
        _Insn(LD_W_ABS, OFF_ARG0_LOW),
        _Insn(JEQ_K, AF_UNIX, jt="allow", jf="eafnosupport"),
        "clone",
        _Insn(LD_W_ABS, OFF_ARG0_LOW),
        _Insn(JSET_K, CLONE_NEW_ANY, jt="eperm", jf="allow"),
        "allow",
        _Insn(RET_K, RET_ALLOW),
        "eperm",
        _Insn(RET_K, RET_ERRNO | errno.EPERM),
        "eafnosupport",
        _Insn(RET_K, RET_ERRNO | errno.EAFNOSUPPORT),
        "enosys",
        _Insn(RET_K, RET_ERRNO | errno.ENOSYS),
        "kill",
        _Insn(RET_K, RET_KILL_PROCESS),
    ]
    return _assemble(program)
