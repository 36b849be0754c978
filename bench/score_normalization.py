#!/usr/bin/python3
"""Would cohort score normalization (Z-, T-, S-norm, as in speaker
verification) lower the open-set EER? Reads `tripletstream-trainer embed`
output of the defaults proxy (bench/make_defaults_proxy.py layout:
.../userNN/r1.csv enrolls, r2.csv probes; users 1-8 are the test users,
12-24 the training users that serve as the cohort) and prints the EER and
top-1 of raw cosine scores and of each normalization.

  tripletstream-trainer embed --checkpoint=best.pt --input=<r1,r2 of users 1-8, 12-24> --output=E
  /usr/bin/python3 bench/score_normalization.py E
"""
import sys, numpy as np, re
rows = [l.rstrip("\n").split(",") for l in open(sys.argv[1])]
files = [r[0] for r in rows]
E = np.array([[float(x) for x in r[2:]] for r in rows], dtype=np.float64)
user = np.array([int(re.search(r"user(\d+)", f).group(1)) for f in files])
rec = np.array([f.endswith("r1.csv") for f in files])
test = user <= 8
cohort_users = sorted(set(user[user >= 12]))
def norm(x): return x / np.linalg.norm(x, axis=-1, keepdims=True)
def eer(gen, imp):
    s = np.concatenate([gen, imp]); lab = np.concatenate([np.ones(len(gen)), np.zeros(len(imp))])
    o = np.argsort(-s); lab = lab[o]
    tp = np.cumsum(lab) / len(gen); fp = np.cumsum(1 - lab) / len(imp)
    frr = 1 - tp; i = np.argmin(np.abs(frr - fp)); return 100 * (frr[i] + fp[i]) / 2
tusers = sorted(set(user[test]))
T = norm(np.array([E[test & rec & (user == u)].mean(0) for u in tusers]))
P = E[test & ~rec]; pu = user[test & ~rec]
S = P @ T.T
G = S[np.arange(len(pu)), [tusers.index(u) for u in pu]]
mask = np.ones_like(S, bool); mask[np.arange(len(pu)), [tusers.index(u) for u in pu]] = False
def report(name, S):
    gen = S[~mask]; imp = S[mask]
    top1 = 100 * np.mean(np.array(tusers)[S.argmax(1)] == pu)
    print(f"{name:30s} EER {eer(gen, imp):5.2f}%  top1 {top1:5.1f}%")
report("raw", S)
# cohorts
C_sess = norm(np.array([E[(user == u) & (rec == r)].mean(0) for u in cohort_users for r in (True, False)]))
C_win = E[user >= 12]
rng = np.random.default_rng(0); C_win_s = C_win[rng.choice(len(C_win), 2000, replace=False)]
for cname, C in (("session templates", C_sess), ("windows", C_win_s)):
    St = T @ C.T  # template vs cohort
    Sp = P @ C.T  # probe vs cohort
    for topk in (None, 10, 50, 200):
        def stats(M):
            if topk is None or topk >= M.shape[1]: X = M
            else: X = -np.sort(-M, axis=1)[:, :topk]
            return X.mean(1), X.std(1) + 1e-6
        mt, st = stats(St); mp, sp = stats(Sp)
        Z = (S - mt[None, :]) / st[None, :]
        Tn = (S - mp[:, None]) / sp[:, None]
        report(f"{cname} top{topk} znorm", Z)
        report(f"{cname} top{topk} tnorm", Tn)
        report(f"{cname} top{topk} snorm", 0.5 * (Z + Tn))
