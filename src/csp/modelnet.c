/*
  The network of a crystal model, whichever type (-csp_net cspnet | distance; doc/geometric.md):
  SgmCSPLoss, SgmCSPTrain and the sampler call these, which call cspnet.c or distnet.c.
*/
#include <sgmcsp.h>

const char *const SgmCSPNetTypes[] = {"cspnet", "distance", "SgmCSPNetType", "SGM_CSP_NET_", NULL};

PetscErrorCode SgmCSPModelSetUpNet(SgmCSPModel *m)
{
  PetscFunctionBegin;
  if (m->type == SGM_CSP_NET_DISTANCE) {
    PetscCheck(!m->lattice, PETSC_COMM_SELF, PETSC_ERR_USER_INPUT, "The distance network predicts the coordinate score only and has no lattice output: it is for task 1 (drop -csp_lattice, or use -csp_net cspnet)");
    m->dist.maxatoms = m->net.maxatoms;
    PetscCall(SgmCSPDistNetSetUp(&m->dist));
  } else PetscCall(SgmCSPNetSetUp(&m->net));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscInt SgmCSPModelNumParameters(const SgmCSPModel *m)
{
  return m->type == SGM_CSP_NET_DISTANCE ? m->dist.P : m->net.P;
}

PetscErrorCode SgmCSPModelInitializeNet(const SgmCSPModel *m, uint64_t seed, PetscReal theta[])
{
  PetscFunctionBegin;
  if (m->type == SGM_CSP_NET_DISTANCE) PetscCall(SgmCSPDistNetInitialize(&m->dist, seed, theta));
  else PetscCall(SgmCSPNetInitialize(&m->net, seed, theta));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmCSPWorkCreate(const SgmCSPModel *m, SgmCSPWork *w)
{
  PetscFunctionBegin;
  PetscCall(PetscMemzero(w, sizeof(*w)));
  if (m->type == SGM_CSP_NET_DISTANCE) PetscCall(SgmCSPDistNetWorkCreate(&m->dist, &w->d));
  else PetscCall(SgmCSPNetWorkCreate(&m->net, &w->c));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmCSPWorkDestroy(const SgmCSPModel *m, SgmCSPWork *w)
{
  PetscFunctionBegin;
  if (m->type == SGM_CSP_NET_DISTANCE) PetscCall(SgmCSPDistNetWorkDestroy(&w->d));
  else PetscCall(SgmCSPNetWorkDestroy(&w->c));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* eps_F [3n] and eps_L [9] (zero for the distance network) of crystal c at step t */
PetscErrorCode SgmCSPModelForward(const SgmCSPModel *m, const PetscReal theta[], const SgmCrystal *c, PetscReal t, SgmCSPWork *w, PetscReal epsF[], PetscReal epsL[])
{
  PetscFunctionBegin;
  if (m->type == SGM_CSP_NET_DISTANCE) PetscCall(SgmCSPDistNetForward(&m->dist, theta, c, t, &w->d, epsF, epsL));
  else PetscCall(SgmCSPNetForward(&m->net, theta, c, t, &w->c, epsF, epsL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* grad += d/dtheta (gF . eps_F + gL . eps_L) at the last forward pass (gL NULL: no lattice term) */
PetscErrorCode SgmCSPModelBackward(const SgmCSPModel *m, const PetscReal theta[], const SgmCrystal *c, SgmCSPWork *w, const PetscReal gF[], const PetscReal gL[], PetscReal grad[])
{
  PetscFunctionBegin;
  if (m->type == SGM_CSP_NET_DISTANCE) {
    PetscCheck(!gL, PETSC_COMM_SELF, PETSC_ERR_ARG_WRONG, "The distance network has no lattice output to differentiate");
    PetscCall(SgmCSPDistNetBackward(&m->dist, theta, c, &w->d, gF, grad));
  } else PetscCall(SgmCSPNetBackward(&m->net, theta, c, &w->c, gF, gL, grad));
  PetscFunctionReturn(PETSC_SUCCESS);
}
