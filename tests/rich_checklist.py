"""A checklist file that uses every key added to the format after the first: descriptions with
paragraphs and lists, a category's description and condition, item headings, the contractor's
wordings, examples, importance, checklist-wide defaults and an option for one kind of reader.
The framework-free tests read it, and the web tests answer it."""

RICH = """\
code: rich
version: 1
title: 委託業務の自己点検
title_en: Self-inspection of outsourced work
target: contract
description: |
  委託業務（契約）ごとに1件回答してください。
  回答は所管課が確認します。

  確認に使う資料:
  - 契約書・仕様書
  ・事業者からの報告書
  <script>alert("description")</script>
description_en: |
  Answer once for each contract.

  - the contract
  - the contractor's reports
description_contractor: |
  貴社が受託している業務について回答してください。
description_contractor_en: Answer for the work your company does for the ward.
defaults:
  scale: yes_no
  comment: never
  evidence: noncompliant
scales:
  - code: handled3
    title: 取扱状況
    options:
      - {code: done, label: 実施している, label_en: In place, class: compliant, score: 1}
      - {code: notyet, label: 実施していない, label_en: Not in place, class: noncompliant, score: 0}
      - {code: asking, label: 委託先に確認中, label_en: Asking, class: excluded, audience: staff}
      - {code: nowork, label: 該当業務なし, label_en: No such work, class: excluded,
         audience: contractor}
categories:
  - code: A
    title: 管理体制
    title_en: Organisation
    description: |
      事業者の管理体制を確認します。
      <b>太字にはなりません</b>
    description_en: The contractor's organisation.
    items:
      - number: 1
        key: policy
        heading: 基本方針
        heading_en: Policy
        text: 事業者の情報セキュリティ方針を確認している
        text_en: The contractor's security policy has been checked
        text_contractor: 貴社は情報セキュリティ方針を定めていますか
        text_contractor_en: Does your company have a security policy?
        help: 方針の写しで確認してください。
        help_en: Check a copy of the policy.
        help_contractor: 方針の写しを所管課に提出できるようにしてください。
        help_contractor_en: Keep a copy of the policy ready for the division.
        examples: |
          - ISMS認証の登録証
          - プライバシーマークの登録証
        examples_en: An ISMS certificate
        importance: required
      - number: 2
        key: subcontracting
        heading: 再委託
        text: 再委託がある
        text_contractor: 貴社は業務の一部を再委託していますか
        scale: yes_no_na
        comment: noncompliant
        importance: recommended
  - code: B
    title: 再委託先の管理
    title_en: Subcontractors
    description: 再委託がある場合に回答してください。
    condition: {item: 2, answers: [yes]}
    items:
      - number: 3
        key: subcontractor-on-file
        text: 再委託先を書面で把握している
        scale: handled3
      - number: 4
        key: subcontractor-roster
        text: 再委託先の従事者名簿がある
        condition: {item: 3, answers: [done]}
"""
