// Regenerates the UK Core definitions in this folder from a clone of
// https://github.com/NHSDigital/FHIR-R4-UKCORE-STAGING-MAIN (XML -> JSON with fhir's xmlToObj).
// Run once by hand when the pinned commits change; the JSON output is committed as data.
//   node ukcore/convert.mjs /path/to/FHIR-R4-UKCORE-STAGING-MAIN/.git
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import fhirpkg from 'fhir';

const { Fhir } = fhirpkg;
const HERE = dirname(fileURLToPath(import.meta.url));
const gitDir = process.argv[2];
if (!gitDir) {
  console.error('usage: node ukcore/convert.mjs <git dir of FHIR-R4-UKCORE-STAGING-MAIN>');
  process.exit(2);
}

// STU2 2.0.2 (the balloted release) for everything it has.
const STU2 = '62781c561e901737c8370dda8f88d393acfed989';
// main (STU3 current build) for the draft profiles STU2 lacks.
const MAIN = '55dd5f7e9fdf49bd844b97d273345792984528f6';

const files = {
  [STU2]: [
    'structuredefinitions/UKCore-Patient.xml',
    'structuredefinitions/UKCore-Encounter.xml',
    'structuredefinitions/UKCore-Observation.xml',
    'structuredefinitions/UKCore-Organization.xml',
    'structuredefinitions/Extension-UKCore-EthnicCategory.xml',
    'structuredefinitions/Extension-UKCore-LegalStatus.xml',
    'structuredefinitions/Extension-UKCore-DischargeMethod.xml',
    'structuredefinitions/Extension-UKCore-AdmissionMethod.xml',
    'structuredefinitions/Extension-UKCore-NHSNumberVerificationStatus.xml',
    'codesystems/CodeSystem-UKCore-EthnicCategoryEngland.xml',
    'codesystems/CodeSystem-UKCore-LegalStatusClassificationEngland.xml',
    'codesystems/CodeSystem-UKCore-LegalStatusContext.xml',
    'codesystems/CodeSystem-UKCore-DischargeMethodEngland.xml',
    'codesystems/CodeSystem-UKCore-DischargeDestinationEngland.xml',
    'codesystems/CodeSystem-UKCore-AdmissionMethodEngland.xml',
    'codesystems/CodeSystem-UKCore-NHSNumberVerificationStatusEngland.xml',
    'valuesets/ValueSet-UKCore-EthnicCategory.xml',
    'valuesets/ValueSet-UKCore-LegalStatusClassification.xml',
    'valuesets/ValueSet-UKCore-LegalStatusContext.xml',
    'valuesets/ValueSet-UKCore-DischargeMethod.xml',
    'valuesets/ValueSet-UKCore-DischargeDestination.xml',
    'valuesets/ValueSet-UKCore-AdmissionMethod.xml',
    'valuesets/ValueSet-UKCore-NHSNumberVerificationStatus.xml',
  ],
  [MAIN]: [
    'structuredefinitions/UKCore-EpisodeOfCare.xml',
    'structuredefinitions/UKCore-CarePlan.xml',
  ],
};

const fhir = new Fhir();
for (const [rev, paths] of Object.entries(files)) {
  for (const path of paths) {
    const xml = execFileSync('git', ['--git-dir', gitDir, 'show', `${rev}:${path}`], { encoding: 'utf8' });
    const obj = fhir.xmlToObj(xml);
    const out = join(HERE, basename(path, '.xml') + '.json');
    writeFileSync(out, JSON.stringify(obj, null, 2) + '\n');
    console.log(`${rev.slice(0, 8)} ${path} -> ${basename(out)}`);
  }
}
