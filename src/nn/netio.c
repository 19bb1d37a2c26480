/*
  Saving and loading an SgmNet in an HDF5 group the caller has opened: the type (attribute net_type)
  and the architecture as attributes of the group, the parameters as the dataset theta [P] and, for
  the mlp type, the fixed time frequencies as time_frequencies [E/2] and the precision of training as
  the attribute net_precision (absent in older files: double).  On a file opened with MPI-IO every rank of the net's communicator
  calls SgmNetSave (object creation is collective) and rank 0 writes the values; on a file opened
  serially the calling rank writes them.  Load reads everything on every calling rank, so a model
  trained on any number of ranks loads on any other.
*/
#include <sgm/private/netimpl.h>
#include <sgmio.h>

/* Does the writer of this rank write raw data?  MPI-IO file: rank 0 only; serial file: yes. */
static PetscErrorCode NetIsWriter(SgmNet net, hid_t group, PetscBool *writer)
{
  hid_t       file, fapl;
  PetscMPIInt rank;

  PetscFunctionBegin;
  PetscCallHDF5(file = H5Iget_file_id(group));
  PetscCallHDF5(fapl = H5Fget_access_plist(file));
  PetscCallMPI(MPI_Comm_rank(PetscObjectComm((PetscObject)net), &rank));
  *writer = (PetscBool)(H5Pget_driver(fapl) != H5FD_MPIO || rank == 0);
  PetscCallHDF5(H5Pclose(fapl));
  PetscCallHDF5(H5Fclose(file));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetWriteVector_Private(hid_t group, const char name[], PetscInt len, const PetscReal v[], PetscBool writer)
{
  hsize_t dims[1] = {(hsize_t)len};
  hid_t   space, dset;

  PetscFunctionBegin;
  if (H5Lexists(group, name, H5P_DEFAULT) > 0) PetscCallHDF5(H5Ldelete(group, name, H5P_DEFAULT));
  PetscCallHDF5(space = H5Screate_simple(1, dims, NULL));
  PetscCallHDF5(dset = H5Dcreate2(group, name, H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  if (writer) PetscCallHDF5(H5Dwrite(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
  PetscCallHDF5(H5Dclose(dset));
  PetscCallHDF5(H5Sclose(space));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetSave(SgmNet net, hid_t group)
{
  PetscBool writer;

  PetscFunctionBegin;
  PetscValidHeaderSpecific(net, SGM_NET_CLASSID, 1);
  PetscCheck(net->initialized, PetscObjectComm((PetscObject)net), PETSC_ERR_ORDER, "The network has no weights to save: call SgmNetInitialize() or SgmNetLoad() first");
  PetscCall(NetIsWriter(net, group, &writer));
  PetscCall(SgmH5AttrString(group, "net_type", ((PetscObject)net)->type_name));
  PetscUseTypeMethod(net, save, group, writer);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetSave_MLP(SgmNet net, hid_t group, PetscBool writer)
{
  PetscFunctionBegin;
  PetscCall(SgmH5AttrInt(group, "net_dimension", net->d));
  PetscCall(SgmH5AttrInt(group, "net_width", net->width));
  PetscCall(SgmH5AttrInt(group, "net_depth", net->depth));
  PetscCall(SgmH5AttrString(group, "net_embedding", SgmNetEmbeddings[net->embedding]));
  PetscCall(SgmH5AttrInt(group, "net_embed_dim", net->E));
  PetscCall(SgmH5AttrReal(group, "net_fourier_scale", net->fourier_scale));
  PetscCall(SgmH5AttrInt(group, "net_residual", net->residual));
  PetscCall(SgmH5AttrInt(group, "net_classes", net->nclasses));
  PetscCall(SgmH5AttrString(group, "net_output", SgmNetOutputs[net->output]));
  PetscCall(SgmH5AttrReal(group, "net_sigma_data", net->sigma_data));
  PetscCall(SgmH5AttrString(group, "net_time_input", SgmNetTimeInputs[net->time_input]));
  PetscCall(SgmH5AttrString(group, "net_precision", SgmNetPrecisions[net->precision]));
  PetscCall(SgmH5AttrInt(group, "net_parameters", net->P));
  PetscCall(SgmNetWriteVector_Private(group, "theta", net->P, net->theta, writer));
  PetscCall(SgmNetWriteVector_Private(group, "time_frequencies", net->E / 2, net->freq, writer));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ReadEnumAttr(MPI_Comm comm, hid_t group, const char name[], const char *const list[], PetscEnum *v)
{
  char     s[64];
  PetscInt n = 0;

  PetscFunctionBegin;
  PetscCall(SgmH5AttrGetString(comm, group, name, s, sizeof(s)));
  while (list[n]) n++;
  n -= 2; /* list = values..., type name, prefix, NULL */
  for (PetscInt k = 0; k < n; k++) {
    PetscBool match;
    PetscCall(PetscStrcmp(s, list[k], &match));
    if (match) {
      *v = (PetscEnum)k;
      PetscFunctionReturn(PETSC_SUCCESS);
    }
  }
  SETERRQ(comm, PETSC_ERR_FILE_UNEXPECTED, "The network attribute '%s' is '%s', which this sgm does not know", name, s);
}

/* An integer architecture field: adopted by a fresh net, checked against a set-up one. */
PetscErrorCode SgmNetLoadIntAttr_Private(SgmNet net, hid_t group, const char name[], const char opt[], PetscInt *field)
{
  MPI_Comm   comm = PetscObjectComm((PetscObject)net);
  PetscInt64 v;

  PetscFunctionBegin;
  PetscCall(SgmH5AttrGetInt(comm, group, name, &v));
  PetscCheck(!net->setupcalled || (PetscInt)v == *field, comm, PETSC_ERR_FILE_UNEXPECTED, "The network in the file has %s %" PetscInt64_FMT " but this network has %" PetscInt_FMT " (%s)", name + 4, v, *field, opt);
  *field = (PetscInt)v;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetLoadEnumAttr_Private(SgmNet net, hid_t group, const char name[], const char *const list[], PetscEnum *field)
{
  MPI_Comm  comm = PetscObjectComm((PetscObject)net);
  PetscEnum v = (PetscEnum)0;

  PetscFunctionBegin;
  PetscCall(ReadEnumAttr(comm, group, name, list, &v));
  PetscCheck(!net->setupcalled || v == *field, comm, PETSC_ERR_FILE_UNEXPECTED, "The network in the file has %s %s but this network has %s (-%s)", name + 4, list[v], list[*field], name);
  *field = v;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetReadVector_Private(SgmNet net, hid_t group, const char name[], PetscInt len, PetscReal v[])
{
  MPI_Comm comm = PetscObjectComm((PetscObject)net);
  PetscInt dims[1];
  hid_t    dset;

  PetscFunctionBegin;
  PetscCall(SgmH5DatasetShape(comm, group, name, 1, dims));
  PetscCheck(dims[0] == len, comm, PETSC_ERR_FILE_UNEXPECTED, "The network dataset '%s' has %" PetscInt_FMT " entries but the architecture in the file needs %" PetscInt_FMT, name, dims[0], len);
  PetscCallHDF5(dset = H5Dopen2(group, name, H5P_DEFAULT));
  PetscCallHDF5(H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v));
  PetscCallHDF5(H5Dclose(dset));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/*
  A net that is not set up takes the type and the architecture from the file (its dimension, if
  set, must agree); a set-up net must match the file field by field.  Then the weights are read.
*/
PetscErrorCode SgmNetLoad(SgmNet net, hid_t group)
{
  MPI_Comm  comm;
  char      type[64];
  PetscBool match;

  PetscFunctionBegin;
  PetscValidHeaderSpecific(net, SGM_NET_CLASSID, 1);
  comm = PetscObjectComm((PetscObject)net);
  PetscCall(SgmH5AttrGetString(comm, group, "net_type", type, sizeof(type)));
  match = PETSC_FALSE;
  if (((PetscObject)net)->type_name) PetscCall(PetscObjectTypeCompare((PetscObject)net, type, &match));
  PetscCheck(!net->setupcalled || match, comm, PETSC_ERR_FILE_UNEXPECTED, "The network in the file is of type %s but this network is of type %s (-net_type)", type, ((PetscObject)net)->type_name);
  if (!match) PetscCall(SgmNetSetType(net, type));
  PetscUseTypeMethod(net, load, group);
  net->initialized = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmNetLoad_MLP(SgmNet net, hid_t group)
{
  MPI_Comm   comm;
  PetscInt   d = net->d, residual = net->residual, P = 0;
  PetscReal  fs, sd;
  PetscInt64 v;

  PetscFunctionBegin;
  comm = PetscObjectComm((PetscObject)net);
  PetscCall(SgmH5AttrGetInt(comm, group, "net_dimension", &v));
  PetscCheck(!d || v == d, comm, PETSC_ERR_FILE_UNEXPECTED, "The network in the file is for data of dimension %" PetscInt64_FMT " but the data here have dimension %" PetscInt_FMT, v, d);
  net->d = (PetscInt)v;
  PetscCall(SgmNetLoadIntAttr_Private(net, group, "net_width", "-net_width", &net->width));
  PetscCall(SgmNetLoadIntAttr_Private(net, group, "net_depth", "-net_depth", &net->depth));
  PetscCall(SgmNetLoadIntAttr_Private(net, group, "net_embed_dim", "-net_embed_dim", &net->E));
  PetscCall(SgmNetLoadIntAttr_Private(net, group, "net_classes", "-net_classes", &net->nclasses));
  PetscCall(SgmNetLoadIntAttr_Private(net, group, "net_residual", "-net_residual", &residual));
  net->residual = (PetscBool)(residual != 0);
  PetscCall(SgmNetLoadEnumAttr_Private(net, group, "net_embedding", SgmNetEmbeddings, (PetscEnum *)&net->embedding));
  PetscCall(SgmNetLoadEnumAttr_Private(net, group, "net_output", SgmNetOutputs, (PetscEnum *)&net->output));
  PetscCall(SgmNetLoadEnumAttr_Private(net, group, "net_time_input", SgmNetTimeInputs, (PetscEnum *)&net->time_input));
  PetscCall(SgmH5AttrGetReal(comm, group, "net_fourier_scale", &fs));
  PetscCall(SgmH5AttrGetReal(comm, group, "net_sigma_data", &sd));
  PetscCheck(!net->setupcalled || (sd == net->sigma_data && fs == net->fourier_scale), comm, PETSC_ERR_FILE_UNEXPECTED, "The network in the file has sigma_data %g, fourier_scale %g but this network has %g, %g (-net_sigma_data, -net_fourier_scale)", (double)sd, (double)fs, (double)net->sigma_data, (double)net->fourier_scale);
  net->fourier_scale = fs;
  net->sigma_data    = sd;
  /* the precision of training (files without it: double); a training choice, not the architecture:
     a set-up net keeps its own (restart and sampling use their options), a fresh net adopts it */
  if (H5Aexists(group, "net_precision") > 0) {
    SgmNetPrecision prec = SGM_NET_PRECISION_DOUBLE;
    PetscCall(ReadEnumAttr(comm, group, "net_precision", SgmNetPrecisions, (PetscEnum *)&prec));
    if (!net->setupcalled) net->precision = prec;
  } else if (!net->setupcalled) net->precision = SGM_NET_PRECISION_DOUBLE;
  PetscCall(SgmNetSetUp(net));
  PetscCall(SgmH5AttrGetInt(comm, group, "net_parameters", &v));
  P = (PetscInt)v;
  PetscCheck(P == net->P, comm, PETSC_ERR_FILE_UNEXPECTED, "The network in the file says it has %" PetscInt_FMT " parameters but its architecture has %" PetscInt_FMT, P, net->P);
  PetscCall(SgmNetReadVector_Private(net, group, "theta", net->P, net->theta));
  PetscCall(SgmNetReadVector_Private(net, group, "time_frequencies", net->E / 2, net->freq));
  PetscFunctionReturn(PETSC_SUCCESS);
}
