/* SPDX-License-Identifier: GPL-2.0 */
/* xptilab: internal interfaces between the module's source files. */
#ifndef XPTILAB_H
#define XPTILAB_H

#include <linux/atomic.h>
#include <linux/percpu-defs.h>
#include <linux/types.h>
#include <asm/desc_defs.h>
#include <asm/pgtable_types.h>
#include <uapi/xptilab.h>

/* Set by module/Kbuild from the top-level VERSION file. */
#ifndef XPTILAB_VERSION
#define XPTILAB_VERSION "unknown"
#endif

struct seq_file;
struct xptilab_pcpu;
struct xptilab_priv;
struct xptilab_loop;

/* entry.S */
extern const char xptilab_entry_start[], xptilab_entry_end[];
extern const char xptilab_ist_stubs[];
extern const char xptilab_tramp_gate[], xptilab_tramp_trap[];
extern const char xptilab_tramp_session[];
u64 xptilab_cr3_roundtrip(const struct xptilab_loop *l);
u64 xptilab_stale_read(u64 shadow_cr3, u64 full_cr3, unsigned long va);

/* params.c: module parameters, range-checked at load */
extern int xptilab_clone_global;
extern int xptilab_vector_gate;
extern int xptilab_vector_trap;
extern int xptilab_vector_session;

/* main.c: every page the module allocates is counted */
extern atomic_long_t xptilab_pages;
void *xptilab_zalloc_page(int node);
void xptilab_free_page(void *p);

/* facts.c: what this CPU and kernel provide */
int xptilab_platform_check(void);
void xptilab_fill_info(struct xptilab_info *info);
unsigned int xptilab_paging_levels(void);

/* kvm.c: no KVM while xptilab is loaded; the IDTR of every CPU at unload */
int xptilab_kvm_init(void);
void xptilab_kvm_exit(void);
void xptilab_kvm_check_idts(void);
bool xptilab_kvm_idts_released(void);

/* area.c: our window in the cpu_entry_area slot */
int xptilab_area_init(void);
void xptilab_area_exit(void);
void xptilab_area_map(unsigned long off, unsigned long pfn, pgprot_t prot);
unsigned long xptilab_area_addr(unsigned long off);
pgd_t *xptilab_kernel_pgd(void);
pud_t *xptilab_area_slot_pud(void);
unsigned int xptilab_area_window_index(void);
typedef void (*xptilab_page_fn_t)(void *ctx, unsigned long off,
				const void *page);
void xptilab_area_visit_pages(xptilab_page_fn_t fn, void *ctx);

/* idt.c: private per-CPU IDTs, per-CPU data, CPU hotplug */
int xptilab_idt_init(void);
void xptilab_idt_exit(void);
void xptilab_idt_free(void);
struct xptilab_pcpu *xptilab_pcpu(unsigned int cpu);
struct xptilab_priv *xptilab_priv(unsigned int cpu);
DECLARE_PER_CPU(u64, xptilab_priv_ptr);	/* read by entry.S through GS */
unsigned long xptilab_idt_addr(unsigned int cpu);
void xptilab_idt_saved(unsigned int cpu, struct desc_ptr *orig, bool *inst);
bool xptilab_idt_has_int80(void);
void xptilab_idt_int80(unsigned int cpu, bool linux_gate);
bool xptilab_idt_int80_is_linux(unsigned int cpu);

/* shadow.c: shadow roots and clones */
int xptilab_shadow_build(unsigned int cpu);
void xptilab_shadow_free(unsigned int cpu);
u64 xptilab_shadow_cr3(unsigned int cpu);
void xptilab_shadow_set_global(unsigned int cpu, bool global);
bool xptilab_shadow_is_global(unsigned int cpu);
int xptilab_kernel_leaf(unsigned long va, unsigned long *pfn, pgprot_t *prot);
int xptilab_shadow_dump(struct seq_file *m, unsigned int cpu);
unsigned int xptilab_shadow_audit(struct seq_file *m, unsigned int cpu);
unsigned int xptilab_exposure_audit(struct seq_file *m, bool summary);
struct mm_struct;
void xptilab_shadow_sync_user(unsigned int cpu);
int xptilab_mirror_set(struct mm_struct *mm, const void *owner);
pgd_t *xptilab_mirror_user_pgd(void);
void xptilab_mirror_clear(void);
void xptilab_mirror_release(const void *owner);
long xptilab_mirror_drops(void);
u64 xptilab_user_root(struct mm_struct *mm);

/* cr3.c: the cr3 experiment */
long xptilab_ioc_run_cr3(void __user *uarg);

/* tramp.c: trampoline configuration and counters */
long xptilab_ioc_entry_config(void __user *uarg, const void *owner);
void xptilab_owner_set(const void *file);
void xptilab_owner_release(const void *file);
long xptilab_ioc_counters(void __user *uarg);
long xptilab_ioc_session(void __user *uarg, const void *owner);
long xptilab_ioc_session_stats(void __user *uarg);
void xptilab_sync_local(unsigned int variant);

/* ipi.c: IPIs */
long xptilab_ioc_storm(void __user *uarg);
long xptilab_ioc_run_ipi(void __user *uarg, const void *owner);

/* nmi.c: the NMI delivery check */
long xptilab_ioc_nmi_check(void __user *uarg);

/* stale.c: the stale-translation experiment */
long xptilab_ioc_run_stale(void __user *uarg);

/* chardev.c: /dev/xptilab */
int xptilab_chardev_init(void);
void xptilab_chardev_exit(void);
int xptilab_copy_arg(void *karg, size_t ksize, void __user *uarg);
bool xptilab_zeroed(const void *p, size_t len);

/*
 * Refuse an ioctl argument: say why (ratelimited, prefixed by the
 * ioctl's name) and evaluate to -EINVAL.
 */
#define XPTILAB_INVAL(what, fmt, ...) ({				\
	pr_info_ratelimited(what ": " fmt "\n", ##__VA_ARGS__);		\
	-EINVAL; })

/* debugfs.c: /sys/kernel/debug/xptilab/ */
void xptilab_debugfs_init(void);
void xptilab_debugfs_exit(void);

/* Experiments run one at a time: they own CPUs and shadow roots. */
extern struct mutex xptilab_run_lock;

#endif /* XPTILAB_H */
