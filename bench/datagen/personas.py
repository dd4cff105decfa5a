"""Bench personas: users the generator creates at every scale, for benchmarks and load tests.

Contract (other code imports this): `PERSONAS` maps username -> description; every persona has the password
`PASSWORD`. The generator (bench.datagen.generate) creates them at every scale with exactly these shapes:

* bench_socialsekreterare – socialsekreterare in 2 enheter of the largest kommun; those enheter take part in
  many SIPs (with consent), so the user sees many plans.
* bench_behandlare – behandlare in 1 enhet of the largest region, which takes part in many SIPs.
* bench_contact – designated deviation contact person (avvikelser ContactPerson) of the largest region, the
  counterpart organisation of a large share of deviations (a big inbox); member of one region unit.
* bench_forum – processledare (ForumMember role "processledare") of the largest forum (the forum of the
  largest kommun and its region, which has the most deviations); staff member of the largest kommun.
* bench_nobody – staff with an active membership (behandlare) in a unit that takes part in no SIP and no
  forum: sees no SIPs, persons, deviations or forums.
* bench_admin – org_admin of the largest kommun (membership in its top-level förvaltning).
"""

PASSWORD = "bench-password"

PERSONAS: dict[str, dict] = {
    "bench_socialsekreterare": {
        "role": "socialsekreterare", "organisation": "largest_kommun", "units": 2,
        "description": "Socialsekreterare i 2 enheter i den största kommunen; ser många SIP:ar.",
        "sees_sips": True,
    },
    "bench_behandlare": {
        "role": "behandlare", "organisation": "largest_region", "units": 1,
        "description": "Behandlare i 1 enhet i den största regionen.",
        "sees_sips": True,
    },
    "bench_contact": {
        "role": "behandlare", "organisation": "largest_region", "units": 1, "contact_person": True,
        "description": "Utsedd kontaktperson för avvikelser i den största regionen (stor inkorg).",
        "sees_sips": False,
    },
    "bench_forum": {
        "role": "processledare", "organisation": "largest_kommun", "units": 1, "forum_role": "processledare",
        "description": "Processledare i det största samverkansforumet (största kommunen + dess region).",
        "sees_sips": False,
    },
    "bench_nobody": {
        "role": "behandlare", "organisation": "largest_kommun", "units": 1,
        "description": "Personal i en enhet som inte deltar i någon SIP: ser ingenting.",
        "sees_sips": False,
    },
    "bench_admin": {
        "role": "org_admin", "organisation": "largest_kommun", "units": 1,
        "description": "Organisationsadministratör i den största kommunen.",
        "sees_sips": False,
    },
}

USERNAMES = tuple(PERSONAS)
