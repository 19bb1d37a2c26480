/* Options that nobody reads: misspelt ones are errors, not silently ignored. */
#include <sgmnll.h>
#include "commands.h"

/*
  Unknown options.  PETSc marks an option used when some code queries it, so after set-up an option
  nobody queried is either misspelt or belongs to a type that is not selected (-ddim_eta in a deck
  run with -sampler_type em, -ts_rk_type under a fixed-step sampler).  To tell them apart, the
  unused options are copied into a scratch options database, and a scratch object of every
  registered type of SDE, score, sampler, TS and TSAdapt reads its options from it: an option that
  none of them queries is unknown to sgm, and an error.  -allow_unused_options (or -options_left no)
  lets the run go on; PETSc then lists the option at the end as usual.
*/
typedef enum {
  PROBE_SDE,
  PROBE_SCORE,
  PROBE_SAMPLER,
  PROBE_TS,
  PROBE_TSADAPT
} ProbeKind;

static PetscErrorCode ProbeType(MPI_Comm comm, ProbeKind kind, const char type[], PetscInt n, char **names, char **values, PetscBool known[])
{
  PetscOptions db;
  char         key[256];
  SgmSDE       sde;
  SgmScore     score;
  SgmSampler   sampler;
  TS           ts;

  PetscFunctionBegin;
  PetscCall(PetscOptionsCreate(&db));
  for (PetscInt i = 0; i < n; i++) {
    PetscCall(PetscSNPrintf(key, sizeof(key), "-%s", names[i]));
    PetscCall(PetscOptionsSetValue(db, key, values[i]));
  }
  switch (kind) {
  case PROBE_SDE:
    PetscCall(PetscOptionsSetValue(db, "-sde_type", type));
    PetscCall(SgmSDECreate(comm, &sde));
    PetscCall(PetscObjectSetOptions((PetscObject)sde, db));
    PetscCall(SgmSDESetFromOptions(sde));
    PetscCall(SgmSDEDestroy(&sde));
    break;
  case PROBE_SCORE:
  case PROBE_SAMPLER:
    PetscCall(PetscOptionsSetValue(db, kind == PROBE_SCORE ? "-score_type" : "-sampler_type", type));
    PetscCall(SgmScoreCreate(comm, &score));
    PetscCall(PetscObjectSetOptions((PetscObject)score, db));
    PetscCall(SgmScoreGetSDE(score, &sde));
    PetscCall(PetscObjectSetOptions((PetscObject)sde, db));
    if (kind == PROBE_SCORE) PetscCall(SgmScoreSetFromOptions(score));
    else {
      PetscCall(SgmSamplerCreate(comm, &sampler));
      PetscCall(PetscObjectSetOptions((PetscObject)sampler, db));
      PetscCall(SgmSamplerSetScore(sampler, score));
      PetscCall(SgmSamplerGetTS(sampler, &ts));
      PetscCall(PetscObjectSetOptions((PetscObject)ts, db));
      PetscCall(SgmSamplerSetFromOptions(sampler));
      PetscCall(SgmSamplerDestroy(&sampler));
    }
    PetscCall(SgmScoreDestroy(&score));
    break;
  case PROBE_TS:
  case PROBE_TSADAPT:
    PetscCall(PetscOptionsSetValue(db, "-ts_type", kind == PROBE_TS ? type : TSRK));
    if (kind == PROBE_TSADAPT) PetscCall(PetscOptionsSetValue(db, "-ts_adapt_type", type));
    PetscCall(TSCreate(comm, &ts));
    PetscCall(PetscObjectSetOptions((PetscObject)ts, db));
    PetscCall(TSSetFromOptions(ts));
    PetscCall(TSDestroy(&ts));
    break;
  }
  for (PetscInt i = 0; i < n; i++) {
    PetscBool used;
    PetscCall(PetscOptionsUsed(db, names[i], &used));
    known[i] = (PetscBool)(known[i] || used);
  }
  PetscCall(PetscOptionsDestroy(&db));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Error naming every option that no type of sgm or PETSc TS reads ('command' for the hint). */
PetscErrorCode SgmCheckUnusedOptions(MPI_Comm comm, const char command[])
{
  PetscInt          n, nunknown = 0;
  char            **names, **values, list[1024] = "";
  PetscBool        *known;
  PetscFunctionList lists[]    = {SgmSDEList, SgmScoreList, SgmSamplerList, TSList};
  const ProbeKind   kinds[]    = {PROBE_SDE, PROBE_SCORE, PROBE_SAMPLER, PROBE_TS};
  const char *const adaptors[] = {TSADAPTNONE, TSADAPTBASIC, TSADAPTDSP, TSADAPTCFL, TSADAPTGLEE, TSADAPTHISTORY, TSADAPTSGMGTG};

  PetscFunctionBegin;
  PetscCall(PetscOptionsLeftGet(NULL, &n, &names, &values));
  PetscCall(PetscCalloc1(n, &known));
  for (size_t k = 0; n && k < sizeof(kinds) / sizeof(kinds[0]); k++) {
    const char **types;
    int          ntypes;
    PetscCall(PetscFunctionListGet(lists[k], &types, &ntypes));
    for (int j = 0; j < ntypes && types[j]; j++) { /* the array ends with NULL */
      PetscBool sgmts;
      PetscCall(PetscStrbeginswith(types[j], "sgm", &sgmts)); /* sgm's TS types need their sampler: probed as samplers */
      if (kinds[k] != PROBE_TS || !sgmts) PetscCall(ProbeType(comm, kinds[k], types[j], n, names, values, known));
    }
    PetscCall(PetscFree(types));
  }
  for (size_t k = 0; n && k < sizeof(adaptors) / sizeof(adaptors[0]); k++) PetscCall(ProbeType(comm, PROBE_TSADAPT, adaptors[k], n, names, values, known));
  for (PetscInt i = 0; i < n; i++) {
    if (known[i]) continue;
    PetscCall(PetscStrlcat(list, nunknown++ ? ", -" : "-", sizeof(list)));
    PetscCall(PetscStrlcat(list, names[i], sizeof(list)));
  }
  PetscCall(PetscFree(known));
  PetscCall(PetscOptionsLeftRestore(NULL, &n, &names, &values));
  PetscCheck(!nunknown, comm, PETSC_ERR_USER_INPUT, "unknown option%s %s (misspelt? see `sgm %s -help`, or add -allow_unused_options to run anyway)", nunknown > 1 ? "s" : "", list, command);
  PetscFunctionReturn(PETSC_SUCCESS);
}

