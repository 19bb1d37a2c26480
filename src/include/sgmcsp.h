/*
  Crystals (issue 9, DiffCSP: Jiao et al. 2023; doc/geometric.md "Crystals (DiffCSP)"): the crystal
  data set, the structure matcher, the CSPNet-like score network, the periodic distance-based score
  network (-csp_net distance, task 1), DiffCSP training and the predictor-corrector sampler.

  A crystal of n atoms: atomic numbers z[n], fractional coordinates f[3n] (f[3i + a], any real: the
  code works modulo 1), lattice L[9] with the lattice vectors as rows (sgmgeometric.h), so the
  Cartesian position of atom i is sum_a f[3i + a] L[3a + .].
*/
#pragma once

#include <sgmgeometric.h>

typedef struct {
  PetscInt         n;
  const PetscInt  *z;
  const PetscReal *f;
  const PetscReal *L;
} SgmCrystal;

/* ---- a set of crystals in the HDF5 layout of postprocess/sgm-crystals (src/csp/data.c) ---- */
typedef struct {
  PetscInt   N;        /* crystals */
  PetscInt   maxatoms; /* padded width of the per-atom datasets */
  PetscInt  *natoms;   /* [N] */
  PetscInt  *types;    /* [N*maxatoms] atomic numbers, 0 past natoms */
  PetscReal *frac;     /* [N*maxatoms*3] */
  PetscReal *lattice;  /* [N*9] */
} SgmCrystalSet;

PETSC_EXTERN PetscErrorCode SgmCrystalSetLoad(MPI_Comm, const char[], SgmCrystalSet *);
PETSC_EXTERN PetscErrorCode SgmCrystalSetDestroy(SgmCrystalSet *);
PETSC_EXTERN void           SgmCrystalSetGet(const SgmCrystalSet *, PetscInt, SgmCrystal *);
PETSC_EXTERN PetscErrorCode SgmCrystalSetWrite(MPI_Comm, hid_t, const SgmCrystalSet *);

/* ---- lattices (src/csp/lattice.c) ---- */
PETSC_EXTERN PetscReal      SgmCSPDet3(const PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmCSPInverse3(const PetscReal[], PetscReal[]);
PETSC_EXTERN void           SgmCSPLatticeParameters(const PetscReal[], PetscReal[]);
PETSC_EXTERN void           SgmCSPLatticeFromParameters(const PetscReal[], PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmCSPLatticeReduce(const PetscReal[], PetscReal[], PetscInt[]);

/* ---- structure matcher (src/csp/match.c, src/csp/assign.c) ---- */
typedef struct {
  PetscReal stol;      /* RMS displacement tolerance in units of (V/n)^(1/3) (pymatgen stol) */
  PetscReal ltol;      /* fractional lattice-length tolerance (pymatgen ltol) */
  PetscReal angle_tol; /* lattice-angle tolerance in degrees */
} SgmCSPMatchParams;

PETSC_EXTERN void           SgmCSPMatchParamsDefault(SgmCSPMatchParams *);
PETSC_EXTERN PetscErrorCode SgmCSPMatch(const SgmCSPMatchParams *, const SgmCrystal *, const SgmCrystal *, PetscBool *, PetscReal *);
PETSC_EXTERN PetscErrorCode SgmCSPAssign(PetscInt, const PetscReal[], PetscInt[], PetscReal *);
PETSC_EXTERN PetscErrorCode SgmCSPMatchSets(MPI_Comm, const SgmCSPMatchParams *, const SgmCrystalSet *, const SgmCrystalSet *, PetscReal[], PetscReal[]);

/* ---- the CSPNet-like network (src/csp/cspnet.c) ---- */
#define SGM_CSP_MAXZ         100 /* atomic numbers 1..100 have an embedding row */
#define SGM_CSP_MAXATOMS     64  /* largest cell of sgm csp train / sample */
#define SGM_CSPNET_MAXLAYERS 16
#define SGM_CSPNET_MAXH      512

typedef struct {
  PetscInt  H;        /* hidden width */
  PetscInt  nl;       /* message-passing layers */
  PetscInt  nf;       /* Fourier frequencies k = 0..nf-1 of the fractional differences */
  PetscInt  nt;       /* time features (even) */
  PetscInt  maxatoms; /* largest cell */
  PetscReal ipscale;  /* the lattice inner products enter as ipscale * L L^T */
  /* filled by SgmCSPNetSetUp: offsets into theta and the parameter count */
  PetscInt oE, oWt, obt, oLayer[SGM_CSPNET_MAXLAYERS], oWf, oWl, P;
} SgmCSPNet;

typedef struct { /* activations of one forward pass, kept for the backward pass */
  PetscInt   n;
  PetscReal  ip[9];
  PetscReal *h, *u, *v, *agg, *p, *r, *psi, *tmp, *du, *tau;
} SgmCSPNetWork;

PETSC_EXTERN PetscErrorCode SgmCSPNetSetUp(SgmCSPNet *);
PETSC_EXTERN PetscErrorCode SgmCSPNetInitialize(const SgmCSPNet *, uint64_t, PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmCSPNetWorkCreate(const SgmCSPNet *, SgmCSPNetWork *);
PETSC_EXTERN PetscErrorCode SgmCSPNetWorkDestroy(SgmCSPNetWork *);
PETSC_EXTERN PetscErrorCode SgmCSPNetForward(const SgmCSPNet *, const PetscReal[], const SgmCrystal *, PetscReal, SgmCSPNetWork *, PetscReal[], PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmCSPNetBackward(const SgmCSPNet *, const PetscReal[], const SgmCrystal *, SgmCSPNetWork *, const PetscReal[], const PetscReal[], PetscReal[]);

/* ---- the periodic distance-based network (src/csp/distnet.c; -csp_net distance, task 1) ---- */
#define SGM_CSPDIST_MAXLAYERS 8

typedef struct {
  PetscInt  H;        /* hidden width of the edge MLP */
  PetscInt  nl;       /* layers of the edge MLP */
  PetscInt  nr;       /* Gaussian radial basis functions on [0, rc] */
  PetscInt  nt;       /* time features (even) */
  PetscInt  maxatoms; /* largest cell */
  PetscReal rc;       /* cutoff radius of the multi-graph (Angstrom) */
  /* filled by SgmCSPDistNetSetUp: offsets into theta and the parameter count */
  PetscInt oE, oWr, oWt, ob1, oW[SGM_CSPDIST_MAXLAYERS], ob[SGM_CSPDIST_MAXLAYERS], ow, bout, P;
} SgmCSPDistNet;

typedef struct { /* one forward pass, kept for the backward pass */
  PetscInt   n, ne, cap;            /* atoms, edges, edge capacity of the buffers */
  SgmEdge   *e;                     /* [ne] the multi-graph (SgmPeriodicEdges) */
  PetscReal *rbf, *act, *fc, *se;   /* per edge: [nr] radial basis, [nl H] pre-activations, envelope, s_e */
  PetscReal *tau, *ct, *sx, *gx;    /* [nt], [H], [3 maxatoms] Cartesian scores and their adjoint */
} SgmCSPDistNetWork;

PETSC_EXTERN PetscErrorCode SgmCSPDistNetSetUp(SgmCSPDistNet *);
PETSC_EXTERN PetscErrorCode SgmCSPDistNetInitialize(const SgmCSPDistNet *, uint64_t, PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmCSPDistNetWorkCreate(const SgmCSPDistNet *, SgmCSPDistNetWork *);
PETSC_EXTERN PetscErrorCode SgmCSPDistNetWorkDestroy(SgmCSPDistNetWork *);
PETSC_EXTERN PetscErrorCode SgmCSPDistNetForward(const SgmCSPDistNet *, const PetscReal[], const SgmCrystal *, PetscReal, SgmCSPDistNetWork *, PetscReal[], PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmCSPDistNetBackward(const SgmCSPDistNet *, const PetscReal[], const SgmCrystal *, SgmCSPDistNetWork *, const PetscReal[], PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmCSPDistanceScoreToFractional(PetscInt, const PetscReal[], PetscInt, const SgmEdge[], const PetscReal[], PetscReal[], PetscReal[]);

/* ---- DiffCSP schedules (src/csp/schedule.c): arrays indexed by the step t = 0..T ---- */
typedef struct {
  PetscInt   T;
  PetscReal  sigma_begin, sigma_end;
  PetscReal *sigma; /* wrapped-normal sigma_t of F, sigma_0 = 0 */
  PetscReal *sn;    /* E[score^2] of the wrapped normal at sigma_t (1/lambda_t), sn_0 = 1 */
  PetscReal *beta, *alpha, *abar, *post; /* cosine DDPM schedule of L; post = posterior std */
} SgmCSPSchedule;

PETSC_EXTERN PetscErrorCode SgmCSPWrappedScoreNorm(PetscReal, PetscReal *);
PETSC_EXTERN PetscErrorCode SgmCSPScheduleCreate(PetscInt, PetscReal, PetscReal, SgmCSPSchedule *);
PETSC_EXTERN PetscErrorCode SgmCSPScheduleDestroy(SgmCSPSchedule *);
PETSC_EXTERN void           SgmCSPLatticePrecond(const SgmCSPSchedule *, PetscReal, PetscInt, PetscReal *, PetscReal *);
PETSC_EXTERN PetscReal      SgmCSPLatticeRMS(const SgmCrystalSet *);

/* ---- training (src/csp/train.c) and sampling (src/csp/sample.c) ---- */
typedef enum {
  SGM_CSP_NET_CSPNET,  /* the CSPNet-like network (cspnet.c), tasks 1 and 2 */
  SGM_CSP_NET_DISTANCE /* the periodic distance-based network (distnet.c), task 1 */
} SgmCSPNetType;
PETSC_EXTERN const char *const SgmCSPNetTypes[]; /* "cspnet", "distance" (PetscOptionsEnum layout) */

typedef struct {
  SgmCSPNetType  type;
  SgmCSPNet      net;  /* type cspnet; net.maxatoms is the model's largest cell for either type */
  SgmCSPDistNet  dist; /* type distance */
  SgmCSPSchedule sched;
  PetscBool      lattice; /* task 2: the lattice is diffused too (else fixed: task 1) */
  PetscReal      lattice_rms; /* task 2: s_d of the preconditioned eps_L head (schedule.c); 0: DiffCSP's plain head */
  PetscReal     *theta;   /* the weights used for sampling (the EMA after training) */
} SgmCSPModel;

typedef struct {
  PetscInt  steps, batch;
  PetscReal lr, beta1, beta2, adameps, emadecay, cost_coord, cost_lattice;
  PetscInt  seed, log_every;
  PetscInt  ckpt_every, sigstep;         /* checkpoint every this many steps (0: only on a signal); test hook: SIGTERM after step sigstep */
  char      ckpt[PETSC_MAX_PATH_LEN + 8]; /* the checkpoint file ("" : none) */
} SgmCSPTrainParams;

/* the model's network, whichever type (src/csp/modelnet.c) */
typedef struct {
  SgmCSPNetWork     c;
  SgmCSPDistNetWork d;
} SgmCSPWork;

PETSC_EXTERN PetscErrorCode SgmCSPModelSetUpNet(SgmCSPModel *);
PETSC_EXTERN PetscInt       SgmCSPModelNumParameters(const SgmCSPModel *);
PETSC_EXTERN PetscErrorCode SgmCSPModelInitializeNet(const SgmCSPModel *, uint64_t, PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmCSPWorkCreate(const SgmCSPModel *, SgmCSPWork *);
PETSC_EXTERN PetscErrorCode SgmCSPWorkDestroy(const SgmCSPModel *, SgmCSPWork *);
PETSC_EXTERN PetscErrorCode SgmCSPModelForward(const SgmCSPModel *, const PetscReal[], const SgmCrystal *, PetscReal, SgmCSPWork *, PetscReal[], PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmCSPModelBackward(const SgmCSPModel *, const PetscReal[], const SgmCrystal *, SgmCSPWork *, const PetscReal[], const PetscReal[], PetscReal[]);

PETSC_EXTERN PetscErrorCode SgmCSPLoss(const SgmCSPModel *, const PetscReal[], const SgmCrystal *, PetscInt, const PetscReal[], const PetscReal[], PetscReal, PetscReal, SgmCSPWork *, PetscReal *, PetscReal *, PetscReal[]);

/* What a checkpoint of `sgm csp train` holds besides the raw weights m->theta: the training state. */
typedef struct {
  PetscInt   step;       /* optimiser steps done */
  PetscReal *mm, *vv;    /* Adam's moments [P] */
  PetscReal *ema;        /* the EMA of the weights [P] */
  PetscReal  loss;       /* the minibatch loss of the last step */
} SgmCSPTrainState;

PETSC_EXTERN PetscErrorCode SgmCSPTrainStateCreate(const SgmCSPModel *, SgmCSPTrainState *);
PETSC_EXTERN PetscErrorCode SgmCSPTrainStateDestroy(SgmCSPTrainState *);
PETSC_EXTERN PetscErrorCode SgmCSPTrainRestart(MPI_Comm, const char[], const SgmCSPTrainParams *, const SgmCrystalSet *, SgmCSPModel *, SgmCSPTrainState *);
PETSC_EXTERN PetscErrorCode SgmCSPTrain(MPI_Comm, const SgmCSPTrainParams *, const SgmCrystalSet *, SgmCSPModel *, SgmCSPTrainState *, PetscBool *);
PETSC_EXTERN PetscErrorCode SgmCSPModelWrite(MPI_Comm, hid_t, const SgmCSPModel *, const PetscReal[]);
PETSC_EXTERN PetscErrorCode SgmCSPModelLoad(MPI_Comm, const char[], SgmCSPModel *);
PETSC_EXTERN PetscErrorCode SgmCSPModelDestroy(SgmCSPModel *);
PETSC_EXTERN PetscErrorCode SgmCSPSample(MPI_Comm, const SgmCSPModel *, const SgmCrystalSet *, PetscReal, PetscInt, SgmCrystalSet *, PetscReal[], PetscInt *, PetscInt *);
