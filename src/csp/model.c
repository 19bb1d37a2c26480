/*
  A trained crystal model in HDF5 (written by sgm csp train, read by sgm csp sample): /theta [P] the
  EMA weights, /theta_raw [P] the last Adam iterate, and the attributes csp_net ("cspnet" or
  "distance"; a file without it is cspnet), the network's: csp_hidden, csp_layers, csp_frequencies,
  csp_time_features, csp_max_atoms, csp_ip_scale (cspnet) or csp_dist_hidden, csp_dist_layers,
  csp_dist_rbf, csp_cutoff, csp_time_features, csp_max_atoms (distance), and csp_steps,
  csp_sigma_begin, csp_sigma_end, csp_lattice (0: task 1, lattice fixed; 1: task 2, lattice
  diffused), csp_lattice_rms (s_d of task 2's preconditioned lattice head, Angstrom; 0, or absent in
  files of earlier versions: DiffCSP's plain head), csp_parameters.
*/
#include <sgmcsp.h>
#include <sgmio.h>

PetscErrorCode SgmCSPModelWrite(MPI_Comm comm, hid_t file, const SgmCSPModel *m, const PetscReal ema[])
{
  hsize_t dims[1] = {(hsize_t)SgmCSPModelNumParameters(m)};

  PetscFunctionBegin;
  PetscCall(SgmH5WriteSmall(comm, file, "theta", 1, dims, ema));
  PetscCall(SgmH5WriteSmall(comm, file, "theta_raw", 1, dims, m->theta));
  dims[0] = (hsize_t)(m->sched.T + 1); /* the schedules, for checks and plots (index t = 0..T) */
  PetscCall(SgmH5WriteSmall(comm, file, "schedule_sigma", 1, dims, m->sched.sigma));
  PetscCall(SgmH5WriteSmall(comm, file, "schedule_sn", 1, dims, m->sched.sn));
  PetscCall(SgmH5WriteSmall(comm, file, "schedule_alpha", 1, dims, m->sched.alpha));
  PetscCall(SgmH5WriteSmall(comm, file, "schedule_abar", 1, dims, m->sched.abar));
  PetscCall(SgmH5WriteSmall(comm, file, "schedule_post", 1, dims, m->sched.post));
  PetscCall(SgmH5AttrString(file, "csp_net", SgmCSPNetTypes[m->type]));
  if (m->type == SGM_CSP_NET_DISTANCE) {
    PetscCall(SgmH5AttrInt(file, "csp_dist_hidden", m->dist.H));
    PetscCall(SgmH5AttrInt(file, "csp_dist_layers", m->dist.nl));
    PetscCall(SgmH5AttrInt(file, "csp_dist_rbf", m->dist.nr));
    PetscCall(SgmH5AttrReal(file, "csp_cutoff", m->dist.rc));
    PetscCall(SgmH5AttrInt(file, "csp_time_features", m->dist.nt));
    PetscCall(SgmH5AttrInt(file, "csp_max_atoms", m->dist.maxatoms));
  } else {
    PetscCall(SgmH5AttrInt(file, "csp_hidden", m->net.H));
    PetscCall(SgmH5AttrInt(file, "csp_layers", m->net.nl));
    PetscCall(SgmH5AttrInt(file, "csp_frequencies", m->net.nf));
    PetscCall(SgmH5AttrInt(file, "csp_time_features", m->net.nt));
    PetscCall(SgmH5AttrInt(file, "csp_max_atoms", m->net.maxatoms));
    PetscCall(SgmH5AttrReal(file, "csp_ip_scale", m->net.ipscale));
  }
  PetscCall(SgmH5AttrInt(file, "csp_steps", m->sched.T));
  PetscCall(SgmH5AttrReal(file, "csp_sigma_begin", m->sched.sigma_begin));
  PetscCall(SgmH5AttrReal(file, "csp_sigma_end", m->sched.sigma_end));
  PetscCall(SgmH5AttrInt(file, "csp_lattice", m->lattice ? 1 : 0));
  PetscCall(SgmH5AttrReal(file, "csp_lattice_rms", m->lattice_rms));
  PetscCall(SgmH5AttrInt(file, "csp_parameters", SgmCSPModelNumParameters(m)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmCSPModelLoad(MPI_Comm comm, const char fname[], SgmCSPModel *m)
{
  hid_t      file;
  PetscInt64 v[8];
  PetscReal  s0, s1, ips = 0;
  PetscInt   dims[1], P;
  char       type[64] = "cspnet";

  PetscFunctionBegin;
  PetscCall(PetscMemzero(m, sizeof(*m)));
  PetscCall(SgmH5OpenParallel(comm, fname, &file));
  if (H5Aexists(file, "csp_net") > 0) PetscCall(SgmH5AttrGetString(comm, file, "csp_net", type, sizeof(type)));
  if (!strcmp(type, "distance")) {
    m->type = SGM_CSP_NET_DISTANCE;
    PetscCall(SgmH5AttrGetInt(comm, file, "csp_dist_hidden", &v[0]));
    PetscCall(SgmH5AttrGetInt(comm, file, "csp_dist_layers", &v[1]));
    PetscCall(SgmH5AttrGetInt(comm, file, "csp_dist_rbf", &v[2]));
    PetscCall(SgmH5AttrGetReal(comm, file, "csp_cutoff", &m->dist.rc));
  } else {
    PetscCheck(!strcmp(type, "cspnet"), comm, PETSC_ERR_USER_INPUT, "The model file '%s' has csp_net = '%s'; this sgm knows 'cspnet' and 'distance'", fname, type);
    m->type = SGM_CSP_NET_CSPNET;
    PetscCall(SgmH5AttrGetInt(comm, file, "csp_hidden", &v[0]));
    PetscCall(SgmH5AttrGetInt(comm, file, "csp_layers", &v[1]));
    PetscCall(SgmH5AttrGetInt(comm, file, "csp_frequencies", &v[2]));
    PetscCall(SgmH5AttrGetReal(comm, file, "csp_ip_scale", &ips));
  }
  PetscCall(SgmH5AttrGetInt(comm, file, "csp_time_features", &v[3]));
  PetscCall(SgmH5AttrGetInt(comm, file, "csp_max_atoms", &v[4]));
  PetscCall(SgmH5AttrGetInt(comm, file, "csp_steps", &v[5]));
  PetscCall(SgmH5AttrGetInt(comm, file, "csp_lattice", &v[6]));
  PetscCall(SgmH5AttrGetInt(comm, file, "csp_parameters", &v[7]));
  PetscCall(SgmH5AttrGetReal(comm, file, "csp_sigma_begin", &s0));
  PetscCall(SgmH5AttrGetReal(comm, file, "csp_sigma_end", &s1));
  if (H5Aexists(file, "csp_lattice_rms") > 0) PetscCall(SgmH5AttrGetReal(comm, file, "csp_lattice_rms", &m->lattice_rms));
  PetscCallHDF5(H5Fclose(file));
  m->net.maxatoms = (PetscInt)v[4];
  if (m->type == SGM_CSP_NET_DISTANCE) m->dist.H = (PetscInt)v[0], m->dist.nl = (PetscInt)v[1], m->dist.nr = (PetscInt)v[2], m->dist.nt = (PetscInt)v[3];
  else m->net.H = (PetscInt)v[0], m->net.nl = (PetscInt)v[1], m->net.nf = (PetscInt)v[2], m->net.nt = (PetscInt)v[3], m->net.ipscale = ips;
  m->lattice = v[6] ? PETSC_TRUE : PETSC_FALSE;
  PetscCall(SgmCSPModelSetUpNet(m));
  P = SgmCSPModelNumParameters(m);
  PetscCheck(P == (PetscInt)v[7], comm, PETSC_ERR_USER_INPUT, "The model file '%s' says %" PetscInt64_FMT " parameters but its network has %" PetscInt_FMT ": not a file of this sgm version", fname, v[7], P);
  PetscCall(SgmH5ReadReal(comm, fname, "theta", 1, dims, &m->theta));
  PetscCheck(dims[0] == P, comm, PETSC_ERR_USER_INPUT, "The model file '%s' has %" PetscInt_FMT " weights in /theta; its network needs %" PetscInt_FMT, fname, dims[0], P);
  PetscCall(SgmCSPScheduleCreate((PetscInt)v[5], s0, s1, &m->sched));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmCSPModelDestroy(SgmCSPModel *m)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(m->theta));
  if (m->sched.sigma) PetscCall(SgmCSPScheduleDestroy(&m->sched));
  PetscFunctionReturn(PETSC_SUCCESS);
}
